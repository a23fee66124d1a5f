import { batchesPerDrain, groupCommitsBetween, readDrainCounts, readGroupCommits } from './drain-counts.ts';
import { singleBody } from './event-bodies.ts';
import { runLoad } from './post-load.ts';
import type { BenchStack } from './start-bench-stack.ts';

export interface SingleEvent {
  requestsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  refused: number;
  acknowledged: number;
  /** The projector's batches per drain during the phase (what the drains' linger is for). */
  batchesPerDrain: number;
  /** command-api's requests per group commit during the phase (absent before 2026-12-03 13:40). */
  requestsPerBatch?: number;
  /** Its mean batch write, staging insert then queue job, ms (absent before 2026-12-03 13:40). */
  meanBatchWriteMs?: number;
  window: { fromMs: number; toMs: number };
}

/** One event per request on 64 connections, as fast as answers come: what group commit is for. */
export async function measureSingleEvent(stack: BenchStack, durationS: number, run: number): Promise<SingleEvent> {
  const options = { phase: `single${run}`, devices: 10_000, devicePrefix: 's-' };
  const fromMs = Date.now();
  const drainsBefore = await readDrainCounts(stack);
  const commitsBefore = await readGroupCommits(stack);
  const load = await runLoad({
    url: `${stack.urls['command-api']}/v1/events`,
    apiKey: stack.apiKey,
    connections: 64,
    duration: durationS,
    next: (n) => ({ body: singleBody(options, n) }),
  });
  const toMs = Date.now();
  const drainsAfter = await readDrainCounts(stack);
  const commits = groupCommitsBetween(commitsBefore, await readGroupCommits(stack));
  return {
    requestsPerSec: load.requestsPerSec,
    p50Ms: load.p50Ms,
    p99Ms: load.p99Ms,
    refused: load.non2xx + load.errors,
    acknowledged: load.acceptedEvents,
    batchesPerDrain: batchesPerDrain(drainsBefore, drainsAfter),
    requestsPerBatch: commits.requestsPerBatch,
    meanBatchWriteMs: commits.meanWriteMs,
    window: { fromMs, toMs },
  };
}
