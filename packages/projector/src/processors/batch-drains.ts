import { CallBatcher, type Logger, type Pool } from '@strata/core';
import type { ProjectorMetrics } from '../metrics.ts';
import { projectDrain, projectStagedDrain, type DrainedBatch, type DrainResult } from '../queries/project-batch.ts';
import { classifyFailure, isUniqueViolation } from './classify-failure.ts';
import { finishSplitBatch } from './finish-split-batch.ts';
import type { HistoryConflictMemory } from './history-conflict-memory.ts';
import { projectSplittingRefused } from './project-splitting-refused.ts';
import type { DrainWriteThrough } from './write-through-drain.ts';

export interface BatchOutcome {
  inserted: number;
  refused: number;
  /**
   * Settles when the drain's states are written through to the cache (never rejects): the drain's
   * slot is free meanwhile, the job completes after it.
   */
  cached: Promise<void>;
}

export interface BatchDrainDeps {
  pool: Pool;
  logger: Logger;
  metrics: ProjectorMetrics;
  /** Each drain's states to the cache and live streams, once per drain. */
  writeThrough: DrainWriteThrough;
  /** Whether drains try history's plain insert first (decision 0127). */
  historyConflicts: HistoryConflictMemory;
  options: { drainsInFlight: number; drainMaxEvents: number; concurrency: number; lingerMs: number; minEvents: number };
}

/**
 * The projector's drains: group commit on the projector's side. The batches of the jobs active at
 * once go to PostgreSQL together, one statement and one synchronous commit for all. A batch starts
 * at once while a drain slot is free and the last drain started over PROJECTOR_DRAIN_LINGER_MS ago
 * (an idle projector adds no wait); under load, a drain lighter than PROJECTOR_DRAIN_MIN_EVENTS
 * starts that long after the previous one, and batches arriving meanwhile, or while all slots are
 * busy, combine into it (decision 0096). A combined drain that fails is retried batch by batch (each
 * whatever the error), so each batch keeps its own failure handling — deferral while PostgreSQL is
 * away, split-on-refusal, retries — and one batch's refused data never fails the others.
 */
export function createBatchDrains(deps: BatchDrainDeps): CallBatcher<DrainedBatch, BatchOutcome> {
  const { options } = deps;
  return new CallBatcher<DrainedBatch, BatchOutcome>(
    async (batches) => {
      const result = await projectPreferringStaging(deps, batches);
      deps.metrics.drainBatches.observe(batches.length);
      // Each device's new state goes out once per drain, whichever of its batches carried it.
      const cached = deps.writeThrough(result.states);
      return batches.map((batch) => ({ inserted: result.insertedByBatch.get(batch.batchId) ?? 0, refused: 0, cached }));
    },
    {
      callsInFlight: options.drainsInFlight,
      maxItems: options.concurrency,
      maxWeight: options.drainMaxEvents,
      weight: (batch) => batch.events.length,
      // A drain's fixed cost (planning done, still ~1 ms of executor start, commit and WAL flush) is
      // most of a small one's: under one-event requests, batches of ~20 events each paid it alone.
      linger: options.lingerMs > 0 ? { ms: options.lingerMs, minWeight: options.minEvents } : undefined,
      isolate: () => true,
      runOne: async (batch) => {
        deps.metrics.drainBatches.observe(1);
        return projectIsolatingRefused(deps, batch);
      },
    },
  );
}

/**
 * The whole batch in one statement (the common case), or, when PostgreSQL refuses it for its data,
 * split until the refused events stand alone: they are dead-lettered one by one, the rest projected,
 * and the batch then ends like any other (applied, unstaged). Other failures throw to the job.
 */
async function projectIsolatingRefused(deps: BatchDrainDeps, { batchId, events }: DrainedBatch): Promise<BatchOutcome> {
  try {
    const result = await projectPreferringStaging(deps, [{ batchId, events }]);
    return { inserted: result.insertedByBatch.get(batchId) ?? 0, refused: 0, cached: deps.writeThrough(result.states) };
  } catch (error) {
    if (classifyFailure(error) !== 'poison') throw error;
    const split = await projectSplittingRefused(deps.pool, batchId, events);
    await finishSplitBatch(deps.pool, batchId, events.length, split.inserted, split.refused);
    deps.metrics.batchesSplit.inc();
    deps.logger.warn(
      { batchId, events: events.length, parts: split.parts, refused: split.refused.map((r) => ({ tenantId: r.event.tenantId, device: r.event.device, sqlstate: r.sqlstate })) },
      'batch refused by the database: split, refused events dead-lettered, the rest projected',
    );
    return { inserted: split.inserted, refused: split.refused.length, cached: deps.writeThrough(split.states) };
  }
}

/**
 * A drain's batches moved out of staging (the usual case: their rows are there, parsed and typed),
 * then those staging did not hold projected from their jobs' events: after a PostgreSQL crash
 * truncated staging, or for a retried job whose batch an earlier run already applied (that run
 * changes nothing). Two transactions at most, each whole for the batches it holds.
 */
async function projectPreferringStaging(deps: BatchDrainDeps, batches: DrainedBatch[]): Promise<DrainResult> {
  const staged = await projectStaged(deps, batches);
  const missing = batches.filter((batch) => !staged.found.has(batch.batchId));
  if (missing.length === 0) return staged;
  // The job form always skips stored rows: it is the path of retried jobs, whose rows often are.
  const fromJobs = await projectDrain(deps.pool, missing);
  return {
    insertedByBatch: new Map([...staged.insertedByBatch, ...fromJobs.insertedByBatch]),
    // A device in both holds its newer version last: the cache keeps the newest version anyway.
    states: [...staged.states, ...fromJobs.states],
    found: new Set([...staged.found, ...fromJobs.found]),
  };
}

/**
 * The staged form, inserting history plainly unless a drain met a stored event lately; a drain that
 * meets one is run again skipping stored rows (decision 0127). Its first run changed nothing: the
 * statement failed whole. A drain that skipped stored rows also renews the memory, so a client that
 * keeps re-sending costs one failed run, not one every HISTORY_CONFLICT_MEMORY_MS (hostile review).
 */
async function projectStaged(deps: BatchDrainDeps, batches: DrainedBatch[]): Promise<DrainResult> {
  if (deps.historyConflicts.expectsNone) {
    try {
      return await projectStagedDrain(deps.pool, batches, 'fail');
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      deps.historyConflicts.met();
      deps.metrics.drainReruns.inc();
    }
  }
  const result = await projectStagedDrain(deps.pool, batches, 'skip');
  if (skippedStored(batches, result)) deps.historyConflicts.met();
  return result;
}

/** Whether the drain inserted fewer rows than the batches it found held. */
function skippedStored(batches: DrainedBatch[], result: DrainResult): boolean {
  let staged = 0;
  for (const batch of batches) if (result.found.has(batch.batchId)) staged += batch.events.length;
  let inserted = 0;
  for (const n of result.insertedByBatch.values()) inserted += n;
  return inserted < staged;
}
