import { batchBody, type BodyOptions } from './event-bodies.ts';
import { BATCH_EVENTS, DEVICES } from './measure-batch-ingest.ts';
import { asLoadResult, runPacedLoad } from './paced-load.ts';
import type { LoadResult } from './post-load.ts';
import type { BenchStack } from './start-bench-stack.ts';

/**
 * Batches of 500 over the 10k devices at a fixed offered rate, evenly spaced (one every 100 ms at
 * 5,000 events/s): the ingest other measurements run beside. Until 2026-12-01 it came as autocannon's
 * burst at the start of each second, ten batches at once, which the reads' p99 met once a second.
 * `devices` replaces the batch phases' 10k devices (`d-…`, unlabelled) by others, e.g. labelled ones.
 */
export async function backgroundBatchLoad(
  stack: BenchStack,
  eventsPerSec: number,
  durationS: number,
  phase: string,
  devices: Pick<BodyOptions, 'devices' | 'devicePrefix' | 'labelsJson'> = { devices: DEVICES, devicePrefix: 'd-' },
): Promise<LoadResult> {
  const options: BodyOptions = { phase, ...devices };
  const load = await runPacedLoad({
    origin: stack.urls['command-api'],
    path: '/v1/events',
    apiKey: stack.apiKey,
    connections: 4,
    rate: Math.max(1, eventsPerSec / BATCH_EVENTS),
    durationS,
    maxOutstanding: 64,
    next: (n) => ({ body: batchBody(options, n, BATCH_EVENTS) }),
  });
  return asLoadResult(load);
}
