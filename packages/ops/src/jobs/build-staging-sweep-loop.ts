import { IntervalLoop, type Config } from '@strata/core';
import type { OpsDeps } from '../deps.ts';
import { sweepStaging } from './sweep-staging.ts';

export interface StagingSweepLoopDeps extends Pick<OpsDeps, 'logger' | 'pool' | 'ingestQueue' | 'metrics'> {
  config: Pick<Config, 'stagingSweepIntervalMs' | 'stagingSweepAgeMs' | 'projectorBatchAttempts'>;
}

/**
 * The staging sweeper, every few seconds. Not a pg-boss schedule: cron ticks are a minute apart, and
 * a batch whose job was lost should be back in the queue within seconds (decision 0021). The sweep
 * takes an advisory lock, so any number of ops instances can run this loop.
 */
export function buildStagingSweepLoop(deps: StagingSweepLoopDeps): IntervalLoop {
  const { config, metrics, logger } = deps;
  return new IntervalLoop({
    name: 'staging sweep',
    intervalMs: config.stagingSweepIntervalMs,
    logger,
    run: async () => {
      const outcome = await sweepStaging({
        pool: deps.pool,
        ingestQueue: deps.ingestQueue,
        minAgeMs: config.stagingSweepAgeMs,
        attempts: config.projectorBatchAttempts,
      });
      metrics.stagingSweeps.inc({ result: outcome.result });
      if (outcome.result !== 'completed') return;
      metrics.batchesRequeued.inc(outcome.requeued.length);
      metrics.leftoverRowsDeleted.inc(outcome.leftoverRows);
      if (outcome.requeued.length > 0 || outcome.leftoverRows > 0) {
        logger.warn({ requeued: outcome.requeued, leftoverRows: outcome.leftoverRows }, 'staging sweeper repaired batches');
      }
    },
    onError: () => metrics.stagingSweeps.inc({ result: 'failed' }),
  });
}
