import { backgroundBatchLoad } from './background-batch-load.ts';
import { DEVICES } from './measure-batch-ingest.ts';
import type { LoadResult } from './post-load.ts';
import { SERIES_DEVICE, SERIES_END_MS } from './load-series-device.ts';
import type { BenchStack } from './start-bench-stack.ts';
import { measureReadsInTurn, WARM_UP_S } from './read-loads.ts';

/** Requests per second offered to each read of one key (latest state; a group's closed hours, its total). */
export const READ_RATE = 500;
/**
 * Requests per second offered to each read that spans a day or a month of a series (series, stats, a
 * group's live edge): each answer costs milliseconds of CPU, and at READ_RATE they saturate the two
 * cores beside the ingest (offered evenly, 2026-12-01: 175–344 req/s achieved, the rest queued).
 * A hundred dashboards each refreshing once a second (decision 0097).
 */
export const SPAN_READ_RATE = 100;
/**
 * Connections a read may open (the paced generator opens them as answers lag): a population of
 * clients, so the generator's connections never cap the rate (4 did until 2026-12-01, decision 0097).
 */
export const READ_CONNECTIONS = 16;
/**
 * Events per second arriving (batches of 500) while reads are measured, or half of what the batch
 * scenario reached end to end when that is less: reads beside an overloaded projector would measure
 * the overload.
 */
export const READ_BACKGROUND_EVENTS = 5_000;
/** Distinct ranges the never-kept series read cycles through: more than it sends, within the series device's 30 days. */
const FRESH_RANGES = 20_000;

export interface Reads {
  cache: LoadResult;
  strong: LoadResult;
  series24h1m: LoadResult;
  /** The same read over a range a minute earlier each time: never a kept answer (decision 0103). */
  series24h1mFresh: LoadResult;
  series30d1h: LoadResult;
  stats24h1m: LoadResult;
  background: { eventsPerSec: number; acknowledged: number };
  window: { fromMs: number; toMs: number };
  /** p50/p99 of each read's unmeasured warm-up (WARM_UP_S), the background ingest already running. */
  warmUp?: Record<string, { p50Ms: number; p99Ms: number }>;
}

/**
 * Latency of latest-state reads (cache, strong) over the 10k ingested devices, two series of the
 * 1M-event device and the tenant's stats, each at a fixed offered load (READ_RATE or SPAN_READ_RATE
 * requests/s, open loop, evenly spaced), while `backgroundEventsPerSec` events/s arrive: reads are met beside ingest, never alone.
 */
export async function measureReads(stack: BenchStack, durationS: number, backgroundEventsPerSec: number, run: number): Promise<Reads> {
  const device = (n: number) => `d-${(n * 7919) % DEVICES}`;
  const iso = (ms: number) => new Date(ms).toISOString();
  const range = (spanMs: number) => `from=${iso(SERIES_END_MS - spanMs)}&to=${iso(SERIES_END_MS)}`;
  const series = (spanMs: number, interval: string) => `/v1/devices/${SERIES_DEVICE}/series?value=temp&${range(spanMs)}&interval=${interval}&agg=avg,min,max`;
  const freshSeries = (n: number) => {
    const end = SERIES_END_MS - (n % FRESH_RANGES) * 60_000;
    return `/v1/devices/${SERIES_DEVICE}/series?value=temp&from=${iso(end - 86_400_000)}&to=${iso(end)}&interval=1m&agg=avg,min,max`;
  };
  const fromMs = Date.now();
  const background = backgroundBatchLoad(stack, backgroundEventsPerSec, (durationS + WARM_UP_S) * 5 + 2, `reads${run}`);
  const { measured, warmUp } = await measureReadsInTurn(
    stack,
    {
      cache: { connections: READ_CONNECTIONS, rate: READ_RATE, path: (n) => `/v1/devices/${device(n)}?consistency=cache` },
      strong: { connections: READ_CONNECTIONS, rate: READ_RATE, path: (n) => `/v1/devices/${device(n)}?consistency=strong` },
      series24h1m: { connections: READ_CONNECTIONS, rate: SPAN_READ_RATE, path: () => series(86_400_000, '1m') },
      // The same day of minutes, ending n minutes earlier: every request asks a question not asked
      // before, so query-api never has its answer kept (decision 0103) and the whole read is measured.
      series24h1mFresh: { connections: READ_CONNECTIONS, rate: SPAN_READ_RATE, path: (n) => freshSeries(n) },
      series30d1h: { connections: READ_CONNECTIONS, rate: SPAN_READ_RATE, path: () => series(30 * 86_400_000, '1h') },
      stats24h1m: { connections: READ_CONNECTIONS, rate: SPAN_READ_RATE, path: () => `/v1/stats?${range(86_400_000)}&interval=1m` },
    },
    durationS,
  );
  const load = await background;
  return {
    ...measured,
    background: { eventsPerSec: load.acceptedEvents / load.durationS, acknowledged: load.acceptedEvents },
    window: { fromMs, toMs: Date.now() },
    warmUp,
  };
}
