import type { FastifyInstance } from 'fastify';
import { REPLICAS_PATH, type Clock, type Config, type Redis, type ReplicasResponse } from '@strata/core';
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
 * position; and the cache breaker), in the shape core's ReplicasResponse declares for ops.
 */
export function registerReplicasRoute(app: FastifyInstance, deps: ReplicasRouteDeps): void {
  app.get(REPLICAS_PATH, { logLevel: 'warn' }, async (): Promise<ReplicasResponse> => ({
    replicas: deps.replicas.views(deps.clock.now()),
    cache: { connected: deps.cache.status === 'ready', breaker: deps.cacheBreaker.state() },
    maxStalenessMs: deps.config.maxStalenessMs,
  }));
}
