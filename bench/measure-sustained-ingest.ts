import { buildBatchBodies, phaseStart } from './event-bodies.ts';
import { runLoad } from './post-load.ts';
import type { BenchStack } from './start-bench-stack.ts';
import { projectedEvents, waitUntilProjected } from './wait-until-projected.ts';

export const BATCH_EVENTS = 500;
export const DEVICES = 10_000;

export interface SustainedIngest {
  acceptedEventsPerSec: number;
  projectedEventsPerSec: number;
  events: number;
  requestP99Ms: number;
  refused: number;
  /** Time from the end of the load until every accepted event was projected. */
  drainMs: number;
}

/**
 * Batches of 500 events from 10k devices as fast as the command API acknowledges them, for
 * `durationS`; "projected" counts until the last acknowledged event is visible to reads.
 */
export async function measureSustainedIngest(stack: BenchStack, durationS: number, run: number): Promise<SustainedIngest> {
  // Enough distinct bodies for ~100k events/s; beyond that bodies repeat and are deduplicated.
  const bodies = buildBatchBodies({ bodies: Math.ceil((100_000 * durationS) / BATCH_EVENTS), eventsPerBody: BATCH_EVENTS, devices: DEVICES, phase: `sustained${run}`, startMs: phaseStart(run, 0) });
  const before = await projectedEvents(stack.db);
  const started = performance.now();
  const load = await runLoad({
    url: `${stack.urls['command-api']}/v1/events`,
    apiKey: stack.apiKey,
    connections: 8,
    duration: durationS,
    next: (n) => ({ body: bodies[n % bodies.length] as string }),
  });
  const loadEnded = performance.now();
  const events = load.ok * BATCH_EVENTS;
  const projectedAt = await waitUntilProjected(stack.db, before + events, 300_000);
  return {
    acceptedEventsPerSec: events / ((loadEnded - started) / 1000),
    projectedEventsPerSec: events / ((projectedAt - started) / 1000),
    events,
    requestP99Ms: load.p99Ms,
    refused: load.non2xx + load.errors,
    drainMs: projectedAt - loadEnded,
  };
}
