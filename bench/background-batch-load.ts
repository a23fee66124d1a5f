import { batchBody } from './event-bodies.ts';
import { BATCH_EVENTS, DEVICES } from './measure-batch-ingest.ts';
import { runLoad, type LoadResult } from './post-load.ts';
import type { BenchStack } from './start-bench-stack.ts';

/** Batches of 500 over the 10k devices at a fixed offered rate: the ingest other measurements run beside. */
export function backgroundBatchLoad(stack: BenchStack, eventsPerSec: number, durationS: number, phase: string): Promise<LoadResult> {
  const options = { phase, devices: DEVICES, devicePrefix: 'd-' };
  return runLoad({
    url: `${stack.urls['command-api']}/v1/events`,
    apiKey: stack.apiKey,
    connections: 4,
    duration: durationS,
    overallRate: Math.max(1, Math.round(eventsPerSec / BATCH_EVENTS)),
    next: (n) => ({ body: batchBody(options, n, BATCH_EVENTS) }),
  });
}
