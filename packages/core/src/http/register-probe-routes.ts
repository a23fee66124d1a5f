import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { Type } from 'typebox';
import type { CheckResult, HealthCheck } from '../health/check-result.ts';
import { runCheck } from '../health/run-check.ts';
import { ErrorBody, errorResponse } from './error-responses.ts';

const Unready = Type.Object(
  {
    status: Type.Literal('unavailable'),
    reasons: Type.Record(Type.String(), Type.String(), { description: 'each failed check (or `process`) with its reason' }),
  },
  { description: 'a check failed, or the process is shutting down' },
);

/** The probes' schemas: documentation at /docs, and their answers serialised from them. */
const PROBE_SCHEMAS = {
  livez: {
    tags: ['operations'],
    summary: 'Liveness: the process is up',
    response: { 200: Type.Object({ status: Type.Literal('ok') }), 503: errorResponse(503, 'shutting down') },
  },
  readyz: {
    tags: ['operations'],
    summary: 'Readiness: every dependency answers',
    description: 'A check slower than its timeout counts as failed. The details of each check are in `pnpm ops health`, not here.',
    response: {
      200: Type.Object({ status: Type.Literal('ok'), checks: Type.Record(Type.String(), Type.Literal('ok')) }),
      // The handler's own answer, or the shared error when the process refuses requests while closing.
      503: { anyOf: [Unready, ErrorBody], description: 'not ready: a check failed, or the process is shutting down' },
    },
  },
  metrics: {
    tags: ['operations'],
    summary: 'Prometheus metrics (text exposition format)',
    response: {
      200: { description: 'every metric of this process', content: { 'text/plain': { schema: Type.String() } } },
      503: errorResponse(503, 'shutting down'),
    },
  },
};

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
  app.get('/livez', { logLevel: 'warn', config: { access: 'public' }, schema: PROBE_SCHEMAS.livez }, async () => ({ status: 'ok' }));
  app.get('/readyz', { logLevel: 'warn', config: { access: 'public' }, schema: PROBE_SCHEMAS.readyz }, async (_request, reply) => {
    if (options.isClosing?.()) return reply.code(503).send({ status: 'unavailable', reasons: { process: 'shutting down' } });
    const results = await Promise.all(
      Object.entries(options.checks).map(async ([name, check]) => [name, failureOf(await runCheck(check, timeoutMs))] as const),
    );
    const reasons = Object.fromEntries(results.filter(([, reason]) => reason !== undefined));
    if (Object.keys(reasons).length > 0) return reply.code(503).send({ status: 'unavailable', reasons });
    return { status: 'ok', checks: Object.fromEntries(results.map(([name]) => [name, 'ok'])) };
  });
  app.get('/metrics', { logLevel: 'warn', config: { access: 'public' }, schema: PROBE_SCHEMAS.metrics }, async (_request, reply) => {
    const body = await options.registry.metrics();
    return reply.type(options.registry.contentType).send(body);
  });
}

/** Readiness answers with the reason of a failed check only; the details are for `ops health`. */
function failureOf(result: CheckResult): string | undefined {
  return result.ok ? undefined : (result.error ?? 'failed');
}
