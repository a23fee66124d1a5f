import type { Logger, Redis } from '@strata/core';
import { writeThroughStates, type WriteThroughOptions } from '../cache/write-through-states.ts';
import type { ProjectorMetrics } from '../metrics.ts';
import type { ProjectedState } from '../queries/project-batch.ts';

export interface DrainWriteThroughDeps {
  cache: Redis;
  logger: Logger;
  metrics: ProjectorMetrics;
  options: WriteThroughOptions;
}

/** Writes one drain's states through to the cache; resolves when done, whatever Redis said. */
export type DrainWriteThrough = (states: ProjectedState[]) => Promise<void>;

/**
 * Once per drain, not per job: a drain under one-event load combines ~4 jobs' batches, and each job
 * writing its own share cost a pipeline and a script call per tenant each (issue 10). The database is
 * the truth: a failed cache write is logged and counted, never a reason to redo the projection, so
 * the promise never rejects.
 */
export function createDrainWriteThrough(deps: DrainWriteThroughDeps): DrainWriteThrough {
  return async (states) => {
    if (states.length === 0) return;
    try {
      const result = await writeThroughStates(deps.cache, deps.options, states);
      deps.metrics.cacheWrites.inc({ outcome: 'written' }, result.written);
      deps.metrics.cacheWrites.inc({ outcome: 'stale' }, states.length - result.written - result.failed);
      deps.metrics.cacheWrites.inc({ outcome: 'error' }, result.failed);
      deps.metrics.liveDeltas.inc({ outcome: 'encoded' }, result.deltasEncoded);
      deps.metrics.liveDeltas.inc({ outcome: 'skipped' }, result.deltasSkipped);
      deps.metrics.liveDeltaResends.inc({ result: 'sent' }, result.resent);
      deps.metrics.liveDeltaResends.inc({ result: 'failed' }, result.errors.filter((e) => e.resend).length);
      for (const { tenantId, resend, error } of result.errors) {
        deps.logger.warn(
          { err: error, tenantId },
          resend
            ? "live updates not logged: a live client had arrived, the cache was written, but the resend with the updates failed; the client's resume replays nothing of them (it should re-read)"
            : 'cache write-through failed; cache reads fall back to the database',
        );
      }
    } catch (error) {
      // Only a bug gets here (writeThroughStates returns Redis' errors): nothing is known to be written.
      deps.metrics.cacheWrites.inc({ outcome: 'error' }, states.length);
      deps.logger.warn({ err: error, states: states.length }, 'cache write-through failed; cache reads fall back to the database');
    }
  };
}
