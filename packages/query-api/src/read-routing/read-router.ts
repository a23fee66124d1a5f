import type { Clock, Queryable } from '@strata/core';
import type { QueryMetrics } from '../model/query-metrics.ts';
import type { Breaker } from './breaker.ts';
import type { ProjectionWaiter } from './projection-waiter.ts';
import type { ReplicaSet } from './replica-set.ts';
import type { SourceErrorLog } from './source-error-log.ts';

/** What routeRead needs to choose and try a read's sources: nothing else of the process's deps. */
export interface ReadRouter {
  /** Ends every chain; its errors are the only ones a client sees. */
  primary: Queryable;
  /** The primary with generic plans only, for plans marked `genericPlan` (decision 0105). */
  primaryGeneric: Queryable;
  replicas: Pick<ReplicaSet, 'statuses' | 'node'>;
  cache: {
    /** The cache Redis is connected: a read never waits for it to come back. */
    connected(): boolean;
    breaker: Breaker;
  };
  metrics: Pick<QueryMetrics, 'replicaSkips' | 'cacheLookups'>;
  sourceErrors: SourceErrorLog;
  /** Where strong and token reads wait for their acknowledged batches (decision 0104). */
  projection: Pick<ProjectionWaiter, 'settle'>;
  clock: Clock;
}
