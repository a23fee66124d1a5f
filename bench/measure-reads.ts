import { runLoad, type LoadResult } from './post-load.ts';
import { DEVICES } from './measure-sustained-ingest.ts';
import { SERIES_DEVICE, SERIES_END_MS } from './load-series-device.ts';
import type { BenchStack } from './start-bench-stack.ts';

/** Requests per second offered in each read measurement. */
export const READ_RATE = 500;

export interface Reads {
  cache: LoadResult;
  strong: LoadResult;
  series24h1m: LoadResult;
  series30d1h: LoadResult;
}

/**
 * Latency of latest-state reads (cache, strong) over the 10k ingested devices, and of two series,
 * each at a fixed offered load (READ_RATE requests/s, open loop): a latency target means something
 * only at a stated load, and a closed loop at saturation would measure queueing on two cores instead.
 */
export async function measureReads(stack: BenchStack, durationS: number): Promise<Reads> {
  const read = (connections: number, path: (n: number) => string) =>
    runLoad({ url: stack.urls['query-api'], apiKey: stack.apiKey, method: 'GET', connections, overallRate: READ_RATE, duration: durationS, next: (n) => ({ path: path(n) }) });
  const device = (n: number) => `d-${(n * 7919) % DEVICES}`;
  const iso = (ms: number) => new Date(ms).toISOString();
  const series = (spanMs: number, interval: string) =>
    `/v1/devices/${SERIES_DEVICE}/series?value=temp&from=${iso(SERIES_END_MS - spanMs)}&to=${iso(SERIES_END_MS)}&interval=${interval}&agg=avg,min,max`;
  return {
    cache: await read(8, (n) => `/v1/devices/${device(n)}?consistency=cache`),
    strong: await read(8, (n) => `/v1/devices/${device(n)}?consistency=strong`),
    series24h1m: await read(4, () => series(86_400_000, '1m')),
    series30d1h: await read(4, () => series(30 * 86_400_000, '1h')),
  };
}
