import { runLoad, type LoadResult } from './post-load.ts';
import type { BenchStack } from './start-bench-stack.ts';

/** Seconds each read is asked for, unmeasured, before it is measured. */
export const WARM_UP_S = 1;

/** One read to warm up: its connections and the n-th request's path. */
export interface WarmRead {
  connections: number;
  path: (n: number) => string;
}

/**
 * Reads are measured at steady state beside an ingest that has settled: each read is first asked for
 * WARM_UP_S at its measured rate (the background ingest meanwhile passes its first drains and the
 * refresher its first rounds; query-api's pool connections prepare and plan the read's statement;
 * its pages come into PostgreSQL's buffers). Why: measured at a2c5c87, the first 3 s of the group
 * series right after the background ingest started had p99 124 and 69 ms where the next 3 s of the
 * same read had 21 and 14 ms, so whichever read came first carried the ramp in its p99. The warm-up's
 * own p50/p99 are kept in the results (`warmUp`), not hidden.
 */
export async function warmUpReads(stack: BenchStack, rate: number, reads: Record<string, WarmRead>): Promise<Record<string, { p50Ms: number; p99Ms: number }>> {
  const seen: Record<string, { p50Ms: number; p99Ms: number }> = {};
  for (const [name, read] of Object.entries(reads)) {
    const load: LoadResult = await runLoad({
      url: stack.urls['query-api'],
      apiKey: stack.apiKey,
      method: 'GET',
      connections: read.connections,
      overallRate: rate,
      duration: WARM_UP_S,
      next: (n) => ({ path: read.path(n) }),
    });
    seen[name] = { p50Ms: load.p50Ms, p99Ms: load.p99Ms };
  }
  return seen;
}
