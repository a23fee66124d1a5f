import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { errorResponses, REPLICAS_PATH, type Clock, type Config, type Redis, type ReplicasResponse } from '@strata/core';
import type { Breaker } from '../read-routing/breaker.ts';
import type { ReplicaSet } from '../read-routing/replica-set.ts';

export interface ReplicasRouteDeps {
  replicas: Pick<ReplicaSet, 'views'>;
  cache: Pick<Redis, 'status'>;
  cacheBreaker: Pick<Breaker, 'state'>;
  config: Pick<Config, 'maxStalenessMs'>;
  clock: Clock;
}

const BreakerStateSchema = Type.String({ enum: ['closed', 'open', 'half-open'] });

const schema = {
  tags: ['operations'],
  summary: "This instance's read-routing view",
  description: 'Per replica: healthy, lag, breaker, replay position; and the cache breaker. What `ops health` and `ops replica --status` show.',
  response: {
    200: Type.Object({
      replicas: Type.Array(
        Type.Object({
          name: Type.String(),
          healthy: Type.Boolean({ description: 'its last probe succeeded and its breaker is closed: it may serve reads' }),
          lagMs: Type.Union([Type.Number(), Type.Null()], { description: 'upper bound on its staleness now; null until a probe could bound it' }),
          breaker: BreakerStateSchema,
          replayLsn: Type.Union([Type.String(), Type.Null()]),
          inRecovery: Type.Boolean(),
          probedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], { description: 'when the last probe round began' }),
          error: Type.Optional(Type.String({ description: 'why the last probe failed' })),
        }),
      ),
      cache: Type.Object({ connected: Type.Boolean(), breaker: BreakerStateSchema }),
      maxStalenessMs: Type.Number({ description: 'the default staleness bound for replica reads (MAX_STALENESS_MS)' }),
    }),
    ...errorResponses(500),
  },
};

/**
 * `GET /replicas`: this instance's routing view (per replica: healthy, lag, breaker, replay
 * position; and the cache breaker), in the shape core's ReplicasResponse declares for ops.
 */
export function registerReplicasRoute(app: FastifyInstance, deps: ReplicasRouteDeps): void {
  // Public, like /metrics (outside the /v1 scope, no key is asked): it carries no tenant data.
  app.get(REPLICAS_PATH, { logLevel: 'warn', config: { access: 'public' }, schema }, async (): Promise<ReplicasResponse> => ({
    replicas: deps.replicas.views(deps.clock.now()),
    cache: { connected: deps.cache.status === 'ready', breaker: deps.cacheBreaker.state() },
    maxStalenessMs: deps.config.maxStalenessMs,
  }));
}
