import { checkStoredEvents, type StoredCheck } from './check-stored-events.ts';
import { BENCH_START_MS, SERIES_DAYS } from './event-bodies.ts';
import { runLoad } from './post-load.ts';
import type { BenchStack } from './start-bench-stack.ts';
import { waitUntilDrained } from './wait-until-projected.ts';

export const SERIES_DEVICE = 'series-device';
/** The series device's history ends where the bench starts, before any phase's events. */
export const SERIES_END_MS = BENCH_START_MS;
const SPAN_MS = SERIES_DAYS * 86_400_000;

/**
 * Sends `events` readings for one device spread evenly over the 30 days before the bench started,
 * through the real pipeline, waits until all are projected, and checks all were stored.
 */
export async function loadSeriesDevice(stack: BenchStack, events: number): Promise<StoredCheck> {
  const perBody = 1000;
  const step = SPAN_MS / events;
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
  await waitUntilDrained(stack.db, 900_000);
  return checkStoredEvents(stack.db, stack.tenant, 'series device', { fromMs: SERIES_END_MS - SPAN_MS, toMs: SERIES_END_MS - 1 }, load.acceptedEvents);
}
