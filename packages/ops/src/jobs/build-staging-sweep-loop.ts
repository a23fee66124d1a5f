import type { OpsDeps } from '../deps.ts';
import { StagingSweepLoop } from './staging-sweep-loop.ts';
import { sweepStaging } from './sweep-staging.ts';

/** The staging sweeper wired to the ops service's pool, queue, config and metrics. */
export function buildStagingSweepLoop(deps: OpsDeps): StagingSweepLoop {
  const { config, metrics } = deps;
  return new StagingSweepLoop({
    intervalMs: config.stagingSweepIntervalMs,
    logger: deps.logger,
    sweep: () =>
      sweepStaging({ pool: deps.pool, ingestQueue: deps.ingestQueue, minAgeMs: config.stagingSweepAgeMs, attempts: config.projectorBatchAttempts }),
    onOutcome: (outcome) => {
      metrics.stagingSweeps.inc({ result: outcome.result });
      if (outcome.result !== 'completed') return;
      metrics.batchesRequeued.inc(outcome.requeued.length);
      metrics.leftoverRowsDeleted.inc(outcome.leftoverRows);
    },
  });
}
