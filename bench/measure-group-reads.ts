import { backgroundBatchLoad } from './background-batch-load.ts';
import { GROUP_LABEL, GROUP_LABEL_VALUE, GROUP_SPAN_MS, GROUP_START_MS, GROUP_VALUE_KEY } from './load-group-history.ts';
import { SERIES_END_MS } from './load-series-device.ts';
import { READ_RATE } from './measure-reads.ts';
import { runLoad, type LoadResult } from './post-load.ts';
import type { BenchStack } from './start-bench-stack.ts';

export interface GroupReads {
  /** `…/series` 24 h @ 1h (sum, avg, count, devices) over the 1,000-device group, ending at the group history's end. */
  series24h1h: LoadResult;
  /** `…/total` at a different instant of the group's 25 h per request. */
  totalAtRandom: LoadResult;
  background: { eventsPerSec: number; acknowledged: number };
  window: { fromMs: number; toMs: number };
}

const GROUP_PATH = `/v1/groups/${GROUP_LABEL}/${GROUP_LABEL_VALUE}`;
const iso = (ms: number) => new Date(ms).toISOString();

/** The group series every measured request reads (and the exactness check compares). */
export const GROUP_SERIES_PATH =
  `${GROUP_PATH}/series?value=${GROUP_VALUE_KEY}&from=${iso(SERIES_END_MS - 86_400_000)}&to=${iso(SERIES_END_MS)}` +
  '&interval=1h&agg=sum,avg,count,devices';

export function groupTotalPath(atMs: number): string {
  return `${GROUP_PATH}/total?value=${GROUP_VALUE_KEY}&at=${iso(atMs)}`;
}

/**
 * The instant the n-th total request asks for: a millisecond of the group's 25 h picked by a hash of n
 * (murmur3's finalizer), so every request asks for another instant, mostly inside a minute (the
 * partial-minute path), and every run asks for the same ones.
 */
export function groupTotalInstant(n: number): number {
  let h = (n + 0x9e3779b9) | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return GROUP_START_MS + ((h >>> 0) % GROUP_SPAN_MS);
}

/**
 * Latency of the group reads the issue names over the 1,000-device group, each at READ_RATE
 * requests/s open loop on 4 connections (as the device series reads), while `backgroundEventsPerSec`
 * events/s arrive on other devices: the group's history ends at a fixed instant, as the series
 * device's does, so what is measured is the read over materialized group rollups beside ingest.
 */
export async function measureGroupReads(stack: BenchStack, durationS: number, backgroundEventsPerSec: number, run: number): Promise<GroupReads> {
  const read = (path: (n: number) => string) =>
    runLoad({ url: stack.urls['query-api'], apiKey: stack.apiKey, method: 'GET', connections: 4, overallRate: READ_RATE, duration: durationS, next: (n) => ({ path: path(n) }) });
  const fromMs = Date.now();
  const background = backgroundBatchLoad(stack, backgroundEventsPerSec, durationS * 2 + 2, `groups${run}`);
  const series24h1h = await read(() => GROUP_SERIES_PATH);
  const totalAtRandom = await read((n) => groupTotalPath(groupTotalInstant(n)));
  const load = await background;
  return {
    series24h1h,
    totalAtRandom,
    background: { eventsPerSec: load.acceptedEvents / load.durationS, acknowledged: load.acceptedEvents },
    window: { fromMs, toMs: Date.now() },
  };
}
