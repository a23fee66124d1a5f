import { batchBody } from './event-bodies.ts';
import { batchesPerDrain, eventsPerDrain, readDrainCounts } from './drain-counts.ts';
import { runLoad } from './post-load.ts';
import { sampleBacklog, type Backlog } from './sample-backlog.ts';
import type { BenchStack } from './start-bench-stack.ts';
import { waitUntilDrained } from './wait-until-projected.ts';

export const BATCH_EVENTS = 500;
export const DEVICES = 10_000;

export interface BatchIngest {
  acceptedEventsPerSec: number;
  /** Accepted and visible in history: acknowledged events over the time until staging drained. */
  endToEndEventsPerSec: number;
  acknowledged: number;
  requestP99Ms: number;
  refused: number;
  /** Time from the end of the load until every acknowledged event was projected. */
  drainMs: number;
  /** The projector's batches and events per drain over the phase (load and drain). */
  batchesPerDrain: number;
  eventsPerDrain: number;
  backlog: Backlog;
  window: { fromMs: number; toMs: number };
}

/**
 * Batches of 500 events over 10k devices as fast as the command API acknowledges them, for
 * `durationS`; end to end counts until the last acknowledged event is in history.
 */
export async function measureBatchIngest(stack: BenchStack, durationS: number, run: number): Promise<BatchIngest> {
  const options = { phase: `batch${run}`, devices: DEVICES, devicePrefix: 'd-' };
  const fromMs = Date.now();
  const drainsBefore = await readDrainCounts(stack);
  const sampler = sampleBacklog(stack.db, stack.redis, stack.queueKey);
  const started = performance.now();
  const load = await runLoad({
    url: `${stack.urls['command-api']}/v1/events`,
    apiKey: stack.apiKey,
    connections: 8,
    duration: durationS,
    next: (n) => ({ body: batchBody(options, n, BATCH_EVENTS) }),
  });
  const loadEnded = performance.now();
  const toMs = Date.now();
  const drainedAt = await waitUntilDrained(stack.db, 600_000);
  const backlog = await sampler.stop();
  const drainsAfter = await readDrainCounts(stack);
  return {
    acceptedEventsPerSec: load.acceptedEvents / ((loadEnded - started) / 1000),
    endToEndEventsPerSec: load.acceptedEvents / ((drainedAt - started) / 1000),
    acknowledged: load.acceptedEvents,
    requestP99Ms: load.p99Ms,
    refused: load.non2xx + load.errors,
    drainMs: drainedAt - loadEnded,
    batchesPerDrain: batchesPerDrain(drainsBefore, drainsAfter),
    eventsPerDrain: eventsPerDrain(drainsBefore, drainsAfter),
    backlog,
    window: { fromMs, toMs },
  };
}
