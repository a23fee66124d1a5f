import type { FastifyInstance } from 'fastify';
import type { Deps } from '../deps.ts';

/**
 * `GET /replicas`: this instance's routing view (per replica: healthy, lag, breaker, replay
 * position; and the cache breaker). Beside /metrics rather than under /v1 because it is for
 * operators (`pnpm ops replica --status` reads it), and like /metrics it carries no tenant data.
 */
export function registerReplicasRoute(app: FastifyInstance, deps: Deps): void {
  app.get('/replicas', { logLevel: 'warn' }, async () => ({
    replicas: deps.replicas.views(deps.clock.now()),
    cache: { connected: deps.cache.status === 'ready', breaker: deps.cacheBreaker.state() },
    maxStalenessMs: deps.config.maxStalenessMs,
  }));
}
