import { BENCH_DAY_MS, buildBatchBodies, phaseStart } from './event-bodies.ts';
import { quantile } from './percentiles.ts';
import { runLoad } from './post-load.ts';
import { BATCH_EVENTS, DEVICES } from './measure-sustained-ingest.ts';
import type { BenchStack } from './start-bench-stack.ts';

export interface Freshness {
  p50Ms: number;
  p99Ms: number;
  samples: number;
  backgroundEventsPerSec: number;
}

/**
 * Time from a write's 202 to the write being visible to an `eventual` read, while background load
 * runs at `eventsPerSec` (half the sustained rate). Probes write one event to a fresh device each and
 * poll the latest state every 2 ms until it appears.
 */
export async function measureFreshness(stack: BenchStack, eventsPerSec: number, durationS: number, run: number): Promise<Freshness> {
  const rate = Math.max(1, Math.round(eventsPerSec / BATCH_EVENTS));
  const bodies = buildBatchBodies({ bodies: rate * durationS + 10, eventsPerBody: BATCH_EVENTS, devices: DEVICES, phase: `fresh${run}`, startMs: phaseStart(run, 1) });
  const background = runLoad({
    url: `${stack.urls['command-api']}/v1/events`,
    apiKey: stack.apiKey,
    connections: 8,
    duration: durationS,
    overallRate: rate,
    next: (n) => ({ body: bodies[n % bodies.length] as string }),
  });
  const samples: number[] = [];
  const deadline = performance.now() + (durationS - 1) * 1000;
  for (let i = 0; performance.now() < deadline; i++) {
    const device = `probe${run}-${i}`;
    const posted = await fetch(`${stack.urls['command-api']}/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ device, ts: BENCH_DAY_MS + i, values: { probe: i } }),
    });
    await posted.arrayBuffer();
    if (posted.status !== 202) continue;
    const acknowledged = performance.now();
    for (let polls = 0; polls < 5000; polls++) {
      const read = await fetch(`${stack.urls['query-api']}/v1/devices/${device}?consistency=eventual`, {
        headers: { authorization: `Bearer ${stack.apiKey}` },
      });
      await read.arrayBuffer();
      if (read.status === 200) {
        samples.push(performance.now() - acknowledged);
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  }
  const load = await background;
  return {
    p50Ms: quantile(samples, 0.5),
    p99Ms: quantile(samples, 0.99),
    samples: samples.length,
    backgroundEventsPerSec: (load.ok * BATCH_EVENTS) / load.durationS,
  };
}
