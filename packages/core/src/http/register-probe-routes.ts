import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { withTimeout } from '../time/with-timeout.ts';

/** A readiness check: resolves when the dependency answers, rejects with the reason when not. */
export type ReadinessCheck = () => Promise<void>;

export interface ProbeOptions {
  registry: Registry;
  checks: Record<string, ReadinessCheck>;
  /** A check slower than this counts as failed: a dependency that hangs is as bad as one that is down. */
  checkTimeoutMs?: number;
  /** True once shutdown has begun: readiness then fails so load balancers stop sending work. */
  isClosing?: () => boolean;
}

/** `/livez`, `/readyz` and `/metrics`, the same on every Strata process; public (no key). */
export function registerProbeRoutes(app: FastifyInstance, options: ProbeOptions): void {
  const timeoutMs = options.checkTimeoutMs ?? 2000;
  app.get('/livez', { logLevel: 'warn', config: { access: 'public' } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { logLevel: 'warn', config: { access: 'public' } }, async (_request, reply) => {
    if (options.isClosing?.()) return reply.code(503).send({ status: 'unavailable', reasons: { process: 'shutting down' } });
    const results = await Promise.all(
      Object.entries(options.checks).map(async ([name, check]) => [name, await runCheck(check, timeoutMs)] as const),
    );
    const reasons = Object.fromEntries(results.filter(([, reason]) => reason !== undefined));
    if (Object.keys(reasons).length > 0) return reply.code(503).send({ status: 'unavailable', reasons });
    return { status: 'ok', checks: Object.fromEntries(results.map(([name]) => [name, 'ok'])) };
  });
  app.get('/metrics', { logLevel: 'warn', config: { access: 'public' } }, async (_request, reply) => {
    const body = await options.registry.metrics();
    return reply.type(options.registry.contentType).send(body);
  });
}

async function runCheck(check: ReadinessCheck, timeoutMs: number): Promise<string | undefined> {
  try {
    await withTimeout(check(), timeoutMs);
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message || error.name : String(error);
  }
}
