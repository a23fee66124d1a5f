import type { FastifyInstance } from 'fastify';
import { createHttpServer, registerRequestMetrics, postgresCheck, registerProbeRoutes } from '@strata/core';
import type { Deps } from './deps.ts';
import { registerReplicasRoute } from './routes/replicas-route.ts';
import { v1Routes } from './routes/v1-routes.ts';

/** The query API as a Fastify instance, not yet listening; tests and main.ts both build it here. */
export async function buildApp(deps: Deps): Promise<FastifyInstance> {
  const app = createHttpServer(deps.logger, { limits: deps.config });

  let closing = false;
  // A revoked key's open streams end within the revocation's own delay (pub/sub, under a second).
  const stopEndingRevoked = deps.authenticator.onRevoked((keyId) => endStreamsOfRevokedKey(deps, keyId));
  app.addHook('preClose', async () => {
    closing = true;
    stopEndingRevoked();
    // Open SSE responses would keep the server from closing.
    deps.live.hub.endAll('shutting down');
  });
  registerRequestMetrics(app, deps.registry);
  registerProbeRoutes(app, {
    registry: deps.registry,
    // Only the primary is required: without the cache Redis, `cache` reads fall back to the database,
    // so a cache outage must not take every query-api instance out of rotation.
    checks: { postgres: postgresCheck(deps.pool) },
    isClosing: () => closing,
  });
  registerReplicasRoute(app, deps);
  await app.register(v1Routes(deps), { prefix: '/v1' });
  await app.ready();
  // Replicas, like the cache, are optional: readiness does not wait for them, and until a first
  // probe answers a replica simply takes no reads.
  await deps.replicas.start();
  deps.live.hub.start();
  return app;
}

/** What a key revocation does to this process's live streams: every stream the key opened ends. */
export function endStreamsOfRevokedKey(deps: Deps, keyId: string): number {
  return deps.live.hub.endKey(keyId, 'key revoked');
}
