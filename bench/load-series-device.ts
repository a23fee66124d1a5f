import { BENCH_DAY_MS } from './event-bodies.ts';
import { runLoad } from './post-load.ts';
import type { BenchStack } from './start-bench-stack.ts';
import { projectedEvents, waitUntilProjected } from './wait-until-projected.ts';

export const SERIES_DEVICE = 'series-device';
export const SERIES_END_MS = BENCH_DAY_MS + 86_400_000;
const SPAN_MS = 30 * 86_400_000;

/**
 * Sends `events` readings for one device spread evenly over the 30 days before the end of the bench
 * day, through the real pipeline, and waits until all are projected.
 */
export async function loadSeriesDevice(stack: BenchStack, events: number): Promise<void> {
  const perBody = 1000;
  const step = SPAN_MS / events;
  const before = await projectedEvents(stack.db);
  const load = await runLoad({
    url: `${stack.urls['command-api']}/v1/events`,
    apiKey: stack.apiKey,
    connections: 4,
    amount: Math.ceil(events / perBody),
    next: (b) => {
      const items: string[] = [];
      for (let i = b * perBody; i < Math.min(events, (b + 1) * perBody); i++) {
        const ts = Math.floor(SERIES_END_MS - SPAN_MS + i * step);
        items.push(`{"device":"${SERIES_DEVICE}","id":"s${i}","ts":${ts},"values":{"temp":${(i % 500) / 10}}}`);
      }
      return { body: `{"events":[${items.join(',')}]}` };
    },
  });
  if (load.non2xx + load.errors > 0) throw new Error(`loading the series device: ${load.non2xx + load.errors} requests refused`);
  await waitUntilProjected(stack.db, before + events, 600_000);
}
