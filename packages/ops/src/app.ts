import type { FastifyInstance } from 'fastify';
import { createHttpServer, postgresCheck, queueRedisCheck, redisCheck, registerProbeRoutes } from '@strata/core';
import type { OpsDeps } from './deps.ts';
import { registerDeadLetterRoutes } from './routes/dead-letter-routes.ts';
import { registerHealthRoute } from './routes/health-route.ts';
import { registerStatusJsonRoute } from './routes/status-json-route.ts';
import { registerStatusPageRoute } from './routes/status-page-route.ts';

export interface BuildAppOptions {
  /** True once shutdown has begun (startOps tracks it): readiness then answers 503. */
  isClosing?: () => boolean;
}

/**
 * The ops HTTP surface (probes, metrics, the health report, the status page and its dead-letter
 * actions), not listening, with nothing started.
 */
export function buildApp(deps: OpsDeps, options: BuildAppOptions = {}): FastifyInstance {
  const app = createHttpServer(deps.logger, { limits: deps.config });
  registerProbeRoutes(app, {
    registry: deps.registry,
    checks: {
      postgres: postgresCheck(deps.pool),
      queueRedis: queueRedisCheck(deps.queueRedis),
      cacheRedis: redisCheck(deps.cacheRedis),
    },
    ...(options.isClosing ? { isClosing: options.isClosing } : {}),
  });
  registerHealthRoute(app, deps);
  registerStatusPageRoute(app);
  registerStatusJsonRoute(app, deps);
  registerDeadLetterRoutes(app, deps);
  return app;
}
