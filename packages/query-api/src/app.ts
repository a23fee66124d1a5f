import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { createHttpServer, postgresCheck, registerApiDocs, registerProbeRoutes, registerRequestMetrics } from '@strata/core';
import type { QueryDeps } from './deps.ts';
import { registerGetDeviceRoute } from './routes/get-device-route.ts';
import { registerGetGroupSeriesRoute } from './routes/get-group-series-route.ts';
import { registerGetGroupTotalRoute } from './routes/get-group-total-route.ts';
import { registerGetGroupsRoute } from './routes/get-groups-route.ts';
import { registerGetSeriesRoute } from './routes/get-series-route.ts';
import { registerGetStateAtRoute } from './routes/get-state-at-route.ts';
import { registerGetStatsRoute } from './routes/get-stats-route.ts';
import { registerListDevicesRoute } from './routes/list-devices-route.ts';
import { registerListEventsRoute } from './routes/list-events-route.ts';
import { QUERY_API_DOCS } from './routes/query-api-docs.ts';
import { registerReplicasRoute } from './routes/replicas-route.ts';
import { registerStreamRoute } from './routes/stream-route.ts';
import { registerTenantScope } from './routes/register-tenant-scope.ts';

export interface BuildAppOptions {
  /** True once shutdown has begun (startQueryApi tracks it): readiness then answers 503. */
  isClosing?: () => boolean;
}

/**
 * The query API as a Fastify instance, ready but not listening, with nothing started: tests and
 * startQueryApi both build it here, and startQueryApi starts the background work it relies on.
 */
export async function buildApp(deps: QueryDeps, options: BuildAppOptions = {}): Promise<FastifyInstance> {
  const app = createHttpServer(deps.logger, { limits: deps.config });
  // Open SSE responses would keep the server from closing.
  app.addHook('preClose', async () => {
    deps.live.hub.stop();
    deps.live.hub.endAll('shutting down');
  });
  registerRequestMetrics(app, deps.registry);
  // Before every route: the document collects routes as they are registered. /docs sits at the root,
  // outside the /v1 scope: no key, no tenant rate limit, not counted as a read.
  await registerApiDocs(app, { ...QUERY_API_DOCS, plugins: { swagger, swaggerUi } });
  registerProbeRoutes(app, {
    registry: deps.registry,
    // Only the primary is required: without the cache Redis, `cache` reads fall back to the database,
    // so a cache outage must not take every query-api instance out of rotation.
    checks: { postgres: postgresCheck(deps.pool) },
    ...(options.isClosing ? { isClosing: options.isClosing } : {}),
  });
  registerReplicasRoute(app, deps);
  await app.register(
    async (v1) => {
      await registerTenantScope(v1, deps);
      registerGetDeviceRoute(v1, deps);
      registerListDevicesRoute(v1, deps);
      registerListEventsRoute(v1, deps);
      registerGetSeriesRoute(v1, deps);
      registerGetStateAtRoute(v1, deps);
      registerGetStatsRoute(v1, deps);
      registerGetGroupsRoute(v1, deps);
      registerGetGroupSeriesRoute(v1, deps);
      registerGetGroupTotalRoute(v1, deps);
      registerStreamRoute(v1, deps);
    },
    { prefix: '/v1' },
  );
  await app.ready();
  return app;
}
