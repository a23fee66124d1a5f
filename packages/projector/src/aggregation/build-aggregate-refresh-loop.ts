import { IntervalLoop } from '@strata/core';
import type { ProjectorDeps } from '../deps.ts';
import { refreshAggregates } from './refresh-aggregates.ts';

/**
 * The refresher in every projector process, every AGGREGATE_REFRESH_INTERVAL_MS. Processes share the
 * work by tenant (a transaction-scoped advisory lock each), and a round still running when the next
 * is due is skipped (IntervalLoop), so rounds never overlap within a process.
 */
export function buildAggregateRefreshLoop(deps: ProjectorDeps): IntervalLoop {
  const { metrics } = deps;
  return new IntervalLoop({
    name: 'aggregate refresh',
    intervalMs: deps.config.aggregateRefreshIntervalMs,
    logger: deps.logger,
    run: async () => {
      const stop = metrics.aggregateRefreshDuration.startTimer();
      const outcome = await refreshAggregates(deps.pool, { now: deps.clock.now() });
      stop();
      metrics.aggregateRefreshes.inc({ result: 'completed' });
      metrics.aggregateMinutesRefreshed.inc(outcome.minutes);
    },
    onError: () => metrics.aggregateRefreshes.inc({ result: 'failed' }),
  });
}
