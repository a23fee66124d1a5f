import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { CheckResult, HealthCheck } from '../health/check-result.ts';
import { runCheck } from '../health/run-check.ts';

export interface ProbeOptions {
  registry: Registry;
  /** Readiness: each must be `ok` (health/dependency-checks.ts); a failure answers 503 with its reason. */
  checks: Record<string, HealthCheck>;
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
      Object.entries(options.checks).map(async ([name, check]) => [name, failureOf(await runCheck(check, timeoutMs))] as const),
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

/** Readiness answers with the reason of a failed check only; the details are for `ops health`. */
function failureOf(result: CheckResult): string | undefined {
  return result.ok ? undefined : (result.error ?? 'failed');
}
