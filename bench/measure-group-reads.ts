import { backgroundBatchLoad } from './background-batch-load.ts';
import { ACTIVE_LABEL, ACTIVE_VALUE_KEY, activeLabelValue, labelActiveGroup } from './label-active-group.ts';
import { GROUP_LABEL, GROUP_LABEL_VALUE, GROUP_SPAN_MS, GROUP_START_MS, GROUP_VALUE_KEY } from './load-group-history.ts';
import { SERIES_END_MS } from './load-series-device.ts';
import { READ_CONNECTIONS, READ_RATE, SPAN_READ_RATE } from './measure-reads.ts';
import type { LoadResult } from './post-load.ts';
import { measureReadsInTurn, WARM_UP_S } from './read-loads.ts';
import type { BenchStack } from './start-bench-stack.ts';

export interface GroupReads {
  /** `…/series` 24 h @ 1h (sum, avg, count, devices) over the 1,000-device group: the 24 whole hours ending at or before the group history's end. */
  series24h1h: LoadResult;
  /**
   * The same series for the 24 h ending now (the read's default range): its last bucket holds the
   * tenant's noted minutes (the background ingest), so it is combined live from the group's members.
   */
  seriesLiveEdge: LoadResult;
  /** `…/total` at a different instant of the group's 25 h per request. */
  totalAtRandom: LoadResult;
  /**
   * The series over the last 24 h of `zone=active-<run>`, 1,000 of the batch devices, whose members receive a
   * tenth of the background ingest while it is read: every noted minute of the current hour is the
   * group's, so that hour is combined from its members' history and `devices` probes each member.
   */
  activeLiveEdge?: LoadResult;
  /**
   * Right after the measured reads, still beside the ingest: ACTIVE_SAMPLES of the same active read one
   * after another, and how many of them a head answered (decision 0088: the default eventual read, as of
   * the open minute's head within MAX_STALENESS_MS) and their meta.lagMs.
   */
  activeHeads?: { samples: number; answeredByHead: number; lagP50Ms: number; lagMaxMs: number };
  background: { eventsPerSec: number; acknowledged: number };
  window: { fromMs: number; toMs: number };
  /** p50/p99 of each read's unmeasured warm-up (WARM_UP_S), the background ingest already running. */
  warmUp?: Record<string, { p50Ms: number; p99Ms: number }>;
}

const GROUP_PATH = `/v1/groups/${GROUP_LABEL}/${GROUP_LABEL_VALUE}`;
const iso = (ms: number) => new Date(ms).toISOString();

/**
 * The end of the closed-range series: the hour at or before the group history's end. Ending at the
 * history's end itself, the read widens to the whole hour holding it, which, whenever the bench runs
 * within that same wall-clock hour, also holds the background ingest's noted minutes: the read then
 * took the live path or not by the clock. The live edge is measured on purpose instead (below).
 */
export const GROUP_SERIES_END_MS = Math.floor(SERIES_END_MS / 3_600_000) * 3_600_000;

/** The closed-range group series every measured request reads (and the exactness check compares). */
export const GROUP_SERIES_PATH =
  `${GROUP_PATH}/series?value=${GROUP_VALUE_KEY}&from=${iso(GROUP_SERIES_END_MS - 86_400_000)}&to=${iso(GROUP_SERIES_END_MS)}` +
  '&interval=1h&agg=sum,avg,count,devices';

/** The group series over the last 24 h (no from/to): its current hour is held by the tenant's ingest. */
export const GROUP_LIVE_SERIES_PATH = `${GROUP_PATH}/series?value=${GROUP_VALUE_KEY}&interval=1h&agg=sum,avg,count,devices`;

/** Run n's active group's series over the last 24 h (no from/to): its members send while it is read. */
export function activeLiveSeriesPath(run: number): string {
  return `/v1/groups/${ACTIVE_LABEL}/${activeLabelValue(run)}/series?value=${ACTIVE_VALUE_KEY}&interval=1h&agg=sum,avg,count,devices`;
}

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
 * Latency of the group reads the issue names over the 1,000-device group, open loop and evenly
 * spaced as the device reads: closed hours and the total at READ_RATE requests/s, the live edges
 * (hours still open, recomputed per read from heads and minutes) at SPAN_READ_RATE, while `backgroundEventsPerSec`
 * events/s arrive on other devices: the group's history ends at a fixed instant, as the series
 * device's does, so what is measured is the read over materialized group rollups beside ingest.
 */
export async function measureGroupReads(stack: BenchStack, durationS: number, backgroundEventsPerSec: number, run: number): Promise<GroupReads> {
  const read = (path: (n: number) => string, rate = READ_RATE) => ({ connections: READ_CONNECTIONS, rate, path });
  await labelActiveGroup(stack, run, true);
  const fromMs = Date.now();
  // Two seconds past the four reads in turn, and ten more for the heads' sample after them.
  const background = backgroundBatchLoad(stack, backgroundEventsPerSec, (durationS + WARM_UP_S) * 4 + 12, `groups${run}`);
  const { measured, warmUp } = await measureReadsInTurn(
    stack,
    {
      series24h1h: read(() => GROUP_SERIES_PATH),
      totalAtRandom: read((n) => groupTotalPath(groupTotalInstant(n))),
      seriesLiveEdge: read(() => GROUP_LIVE_SERIES_PATH, SPAN_READ_RATE),
      activeLiveEdge: read(() => activeLiveSeriesPath(run), SPAN_READ_RATE),
    },
    durationS,
  );
  const activeHeads = await sampleActiveHeads(stack, run);
  const load = await background;
  await labelActiveGroup(stack, run, false);
  return {
    ...measured,
    background: { eventsPerSec: load.acceptedEvents / load.durationS, acknowledged: load.acceptedEvents },
    activeHeads,
    window: { fromMs, toMs: Date.now() },
    warmUp,
  };
}

const ACTIVE_SAMPLES = 40;

/** ACTIVE_SAMPLES active reads one after another: how many a head answered (meta.lagMs > 0 on the primary) and how stale. */
async function sampleActiveHeads(stack: BenchStack, run: number): Promise<GroupReads['activeHeads']> {
  const lags: number[] = [];
  for (let i = 0; i < ACTIVE_SAMPLES; i++) {
    const response = await fetch(`${stack.urls['query-api']}${activeLiveSeriesPath(run)}`, { headers: { authorization: `Bearer ${stack.apiKey}` } });
    const body = (await response.json()) as { meta?: { lagMs?: number } };
    if (response.status === 200 && typeof body.meta?.lagMs === 'number') lags.push(body.meta.lagMs);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const answered = lags.filter((lag) => lag > 0).sort((a, b) => a - b);
  return {
    samples: lags.length,
    answeredByHead: answered.length,
    lagP50Ms: answered[Math.floor(answered.length / 2)] ?? 0,
    lagMaxMs: answered.at(-1) ?? 0,
  };
}
