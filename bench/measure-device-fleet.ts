import { batchesPerDrain, readDrainCounts } from './drain-counts.ts';
import { singleBody } from './event-bodies.ts';
import { DEVICES } from './measure-batch-ingest.ts';
import { runPacedLoad } from './paced-load.ts';
import { probeFreshness, type Freshness } from './probe-freshness.ts';
import { sampleBacklog, type Backlog } from './sample-backlog.ts';
import type { BenchStack } from './start-bench-stack.ts';

export const FLEET_RATE = DEVICES;
/** Keep-alive connections of the fleet's traffic (gateways, not one socket per device). */
const CONNECTIONS = 256;

export interface DeviceFleet {
  offeredPerSec: number;
  achievedPerSec: number;
  p50Ms: number;
  p99Ms: number;
  refused: number;
  /** Requests due while 4 × CONNECTIONS were unanswered: never sent (the service fell that far behind). */
  missed: number;
  backlog: Backlog;
  /** The backlog grows when staged events rise by more than 1 % of the offered rate per second. */
  backlogGrows: boolean;
  freshness: Freshness;
  acknowledged: number;
  /** The projector's batches per drain during the phase. */
  batchesPerDrain: number;
  window: { fromMs: number; toMs: number };
}

/**
 * 10k devices each sending one event per second as its own request: 10k requests/s offered, open
 * loop and evenly spaced (runPacedLoad: each device at its own phase in the second, as a fleet
 * sends), over CONNECTIONS connections, with freshness probes beside it and the backlog sampled.
 */
export async function measureDeviceFleet(stack: BenchStack, durationS: number, run: number): Promise<DeviceFleet> {
  const options = { phase: `fleet${run}`, devices: DEVICES, devicePrefix: 'f-' };
  const fromMs = Date.now();
  const drainsBefore = await readDrainCounts(stack);
  const sampler = sampleBacklog(stack.db, stack.redis, stack.queueKey);
  const [load, freshness] = await Promise.all([
    runPacedLoad({
      origin: stack.urls['command-api'],
      path: '/v1/events',
      apiKey: stack.apiKey,
      connections: CONNECTIONS,
      rate: FLEET_RATE,
      durationS,
      maxOutstanding: CONNECTIONS * 4,
      next: (n) => ({ body: singleBody(options, n) }),
    }),
    probeFreshness(stack, durationS - 1, `fleet${run}`),
  ]);
  const backlog = await sampler.stop();
  const drainsAfter = await readDrainCounts(stack);
  const toMs = Date.now();
  return {
    offeredPerSec: FLEET_RATE,
    achievedPerSec: load.requestsPerSec,
    p50Ms: load.p50Ms,
    p99Ms: load.p99Ms,
    refused: load.non2xx + load.errors,
    missed: load.missed,
    backlog,
    backlogGrows: backlog.slopeEventsPerSec > FLEET_RATE * 0.01,
    freshness,
    acknowledged: load.acceptedEvents + freshness.acknowledged,
    batchesPerDrain: batchesPerDrain(drainsBefore, drainsAfter),
    window: { fromMs, toMs },
  };
}
