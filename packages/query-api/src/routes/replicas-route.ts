import type { FastifyInstance } from 'fastify';
import type { Clock, Config, Redis } from '@strata/core';
import type { Breaker } from '../read-routing/breaker.ts';
import type { ReplicaSet } from '../read-routing/replica-set.ts';

export interface ReplicasRouteDeps {
  replicas: Pick<ReplicaSet, 'views'>;
  cache: Pick<Redis, 'status'>;
  cacheBreaker: Pick<Breaker, 'state'>;
  config: Pick<Config, 'maxStalenessMs'>;
  clock: Clock;
}

/**
 * `GET /replicas`: this instance's routing view (per replica: healthy, lag, breaker, replay
 * position; and the cache breaker). Beside /metrics rather than under /v1 because it is for
 * operators (`pnpm ops replica --status` reads it), and like /metrics it carries no tenant data.
 */
export function registerReplicasRoute(app: FastifyInstance, deps: ReplicasRouteDeps): void {
  app.get('/replicas', { logLevel: 'warn' }, async () => ({
    replicas: deps.replicas.views(deps.clock.now()),
    cache: { connected: deps.cache.status === 'ready', breaker: deps.cacheBreaker.state() },
    maxStalenessMs: deps.config.maxStalenessMs,
  }));
}
