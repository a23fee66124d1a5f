import { asLoadResult, runPacedLoad } from './paced-load.ts';
import type { LoadResult } from './post-load.ts';
import type { BenchStack } from './start-bench-stack.ts';

/** Seconds each read is asked for, unmeasured, before it is measured. */
export const WARM_UP_S = 1;

/** One read under load: its connections and the n-th request's path, at `rate` requests/s open loop, evenly spaced. */
export interface ReadLoad {
  connections: number;
  rate: number;
  path: (n: number) => string;
}

/**
 * The warm-up's requests are numbered from here, so a read whose requests vary with their number (the
 * total's instants, the latest-state devices) never asks in its warm-up what it asks when measured.
 */
const WARM_UP_FIRST_REQUEST = 1_000_000;

/**
 * One read at its rate for `durationS` seconds against query-api, with the tenant's key; requests
 * numbered from `first`. Evenly spaced (runPacedLoad), latency from each request's due instant. A
 * request due while 16 per connection are unanswered is not sent and counts as failed: the service
 * fell that far behind.
 */
export async function runRead(stack: BenchStack, read: ReadLoad, durationS: number, first = 0): Promise<LoadResult> {
  const load = await runPacedLoad({
    origin: stack.urls['query-api'],
    path: '/',
    apiKey: stack.apiKey,
    method: 'GET',
    connections: read.connections,
    rate: read.rate,
    durationS,
    maxOutstanding: read.connections * 16,
    next: (n) => ({ path: read.path(first + n) }),
  });
  return asLoadResult(load);
}

/**
 * Each read for WARM_UP_S unmeasured, then each for `durationS` measured, one at a time in the order
 * given. Reads are measured at steady state beside an ingest that has settled: during the warm-up the
 * background ingest passes its first drains and the refresher its first rounds, query-api's pool
 * connections prepare and plan the read's statement, its pages come into PostgreSQL's buffers. Why:
 * measured at a2c5c87, the first 3 s of the group series right after the background ingest started had
 * p99 124 and 69 ms where the next 3 s of the same read had 21 and 14 ms, so whichever read came first
 * carried the ramp in its p99. The warm-ups' own p50/p99 are returned (`warmUp`), not hidden.
 */
export async function measureReadsInTurn<K extends string>(
  stack: BenchStack,
  reads: Record<K, ReadLoad>,
  durationS: number,
): Promise<{ measured: Record<K, LoadResult>; warmUp: Record<K, { p50Ms: number; p99Ms: number }> }> {
  const names = Object.keys(reads) as K[];
  const warmUp = {} as Record<K, { p50Ms: number; p99Ms: number }>;
  for (const name of names) {
    const load = await runRead(stack, reads[name], WARM_UP_S, WARM_UP_FIRST_REQUEST);
    warmUp[name] = { p50Ms: load.p50Ms, p99Ms: load.p99Ms };
  }
  const measured = {} as Record<K, LoadResult>;
  for (const name of names) measured[name] = await runRead(stack, reads[name], durationS);
  return { measured, warmUp };
}
