import { IntervalLoop, type Config } from '@strata/core';
import type { ProjectorDeps } from '../deps.ts';
import { writeThroughLabels } from '../cache/write-through-labels.ts';
import { countGroupNotes } from '../queries/count-group-notes.ts';
import type { CurrentLabels } from '../queries/select-current-labels.ts';
import { ClaimSizes } from './claim-sizes.ts';
import { TenantBackoff } from './tenant-backoff.ts';
import { refreshAggregates } from './refresh-aggregates.ts';

export interface AggregateRefreshLoopDeps extends Pick<ProjectorDeps, 'logger' | 'clock' | 'pool' | 'metrics' | 'cache'> {
  config: Pick<Config, 'aggregateRefreshIntervalMs' | 'aggregateSettleMs' | 'groupHeadLagMs' | 'redisPrefix'>;
}

export interface AggregateRefreshLoop {
  start(): void;
  /** Rounds now, as the timer runs them; resolves when they are done, never rejects. */
  runOnce(): Promise<void>;
  /** Ends the rounds after the transaction in hand (it commits or rolls back whole) and stops the timer. */
  stop(): Promise<void>;
}

/**
 * The refresher in every projector process, every AGGREGATE_REFRESH_INTERVAL_MS. Processes share the
 * work by tenant (a transaction-scoped advisory lock each), and rounds never overlap within a process
 * (IntervalLoop skips a tick while one runs). While a round leaves a tenant with a full claim (a
 * backlog: history that landed at once, a late upload), the next round follows at once instead of a
 * tick later: catch-up is bounded by the work, not by the interval (one round a second caught up a
 * month of one device in 180 s; decision 0064). stop() is heard between transactions.
 */
export function buildAggregateRefreshLoop(deps: AggregateRefreshLoopDeps): AggregateRefreshLoop {
  const { metrics } = deps;
  const claimSizes = new ClaimSizes();
  const backoff = new TenantBackoff();
  // A tenant whose transaction fails is logged, counted and left alone for a while; the round goes on
  // with the other tenants, whose minutes must not wait behind it (hostile review of issue 13).
  const tenantFailed = (tenantId: string, error: unknown, retryInMs: number): void => {
    metrics.aggregateRefreshes.inc({ result: 'failed' });
    deps.logger.warn({ err: error, tenantId, retryInMs }, 'aggregate refresh of a tenant failed; its minutes stay noted');
  };
  // Heads are a shortcut for reads (exact without them): a failure is logged and the refresh commits.
  const headsFailed = (tenantId: string, error: unknown): void => {
    metrics.groupHeads.inc({ outcome: 'failed' });
    deps.logger.warn({ err: error, tenantId }, 'advancing the group heads of a tenant failed; its reads combine open minutes whole');
  };
  // Labels an event's fold changed reach the cache after the commit, as command-api's PUT/PATCH do;
  // a failed write leaves the entry behind (counted, logged) until the device's next change.
  const labelsChanged = async (tenantId: string, labels: CurrentLabels[]): Promise<void> => {
    try {
      await writeThroughLabels(deps.cache, deps.config.redisPrefix, tenantId, labels);
      metrics.cacheWrites.inc({ outcome: 'written' }, labels.length);
    } catch (error) {
      metrics.cacheWrites.inc({ outcome: 'error' }, labels.length);
      deps.logger.warn({ err: error, tenantId, devices: labels.length }, 'cached labels not written');
    }
  };
  let stopping = false;
  const loop = new IntervalLoop({
    name: 'aggregate refresh',
    intervalMs: deps.config.aggregateRefreshIntervalMs,
    logger: deps.logger,
    run: async () => {
      for (;;) {
        const stop = metrics.aggregateRefreshDuration.startTimer();
        const outcome = await refreshAggregates(deps.pool, {
          now: deps.clock.now(),
          settleMs: deps.config.aggregateSettleMs,
          headLagMs: deps.config.groupHeadLagMs,
          headsClock: () => deps.clock.now(),
          claimSizes,
          backoff,
          tenantFailed,
          headsFailed,
          stopping: () => stopping,
          labelsChanged,
        });
        stop();
        if (outcome.failedTenants === 0) metrics.aggregateRefreshes.inc({ result: 'completed' });
        metrics.aggregateMinutesRefreshed.inc(outcome.minutes);
        if (outcome.labelSamples > 0) metrics.labelFolds.inc({ source: 'event' }, outcome.labelSamples);
        metrics.groupHeads.inc({ outcome: 'advanced' }, outcome.heads.advanced);
        metrics.groupHeads.inc({ outcome: 'given_up' }, outcome.heads.givenUp);
        metrics.groupHeads.inc({ outcome: 'held' }, outcome.heads.held);
        if (outcome.backloggedTenants === 0 || stopping) {
          metrics.groupNotes.set(await countGroupNotes(deps.pool));
          return;
        }
      }
    },
    onError: () => metrics.aggregateRefreshes.inc({ result: 'failed' }),
  });
  return {
    start: () => {
      stopping = false;
      loop.start();
    },
    runOnce: () => loop.runOnce(),
    stop: async () => {
      stopping = true;
      await loop.stop();
    },
  };
}
