import { BENCH_DAY_MS } from './event-bodies.ts';
import { runLoad } from './post-load.ts';
import type { BenchStack } from './start-bench-stack.ts';

export interface SingleEvent {
  requestsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  refused: number;
}

/** One event per request, many connections: what group commit is for. */
export async function measureSingleEvent(stack: BenchStack, durationS: number, run: number): Promise<SingleEvent> {
  const load = await runLoad({
    url: `${stack.urls['command-api']}/v1/events`,
    apiKey: stack.apiKey,
    connections: 64,
    duration: durationS,
    next: (n) => ({
      body: `{"device":"s-${n % 10_000}","id":"single${run}-${n}","ts":${BENCH_DAY_MS + n},"values":{"v":${n % 1000}}}`,
    }),
  });
  return { requestsPerSec: load.requestsPerSec, p50Ms: load.p50Ms, p99Ms: load.p99Ms, refused: load.non2xx + load.errors };
}
