import type { FastifyInstance } from 'fastify';
import { createHttpServer, postgresCheck, queueRedisCheck, redisCheck, registerProbeRoutes } from '@strata/core';
import type { OpsDeps } from './deps.ts';
import { queryApiUrlFor } from './health/query-api-url-for.ts';
import { collectHealth } from './health/collect-health.ts';

export interface AppOptions {
  isClosing?: () => boolean;
}

/** The ops HTTP surface: probes, metrics and the same health report as `pnpm ops health`. */
export function buildApp(deps: OpsDeps, options: AppOptions = {}): FastifyInstance {
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
  app.get('/health', async (_request, reply) => {
    const report = await collectHealth({ ...deps, queryApiUrl: queryApiUrlFor(deps.config) });
    return reply.code(report.status === 'ok' ? 200 : 503).send(report);
  });
  return app;
}
