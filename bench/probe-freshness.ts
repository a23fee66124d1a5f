import { quantile } from './percentiles.ts';
import type { BenchStack } from './start-bench-stack.ts';

export interface Freshness {
  /** 202 → the probe's value in the device's latest state (`eventual`). */
  latestP50Ms: number;
  latestP99Ms: number;
  /** 202 → the probe counted in its minute of the device's series (`eventual`). */
  seriesP50Ms: number;
  seriesP99Ms: number;
  /**
   * 202 → the answer of a `strong` series read of the probe's minute sent right after the 202 (beside
   * the eventual polls): it waits on the primary until the batch is projected (decision 0104).
   */
  strongP50Ms: number;
  strongP99Ms: number;
  /** Strong reads answered 200 without the probe: read-your-writes broken (must be 0). */
  strongMisses: number;
  /**
   * Strong reads refused (any status but 200; the waiter's is 503 \`projection_pending\` once
   * STRONG_READ_WAIT_MS has passed, decision 0104): honest, not a broken promise, but a client got no
   * answer. Counted apart from misses since 2026-12-02: before, a refusal counted as a miss.
   */
  strongRefused: number;
  samples: number;
  /** Events the probes' 202s acknowledged (one per probe). */
  acknowledged: number;
}

const POLL_MS = 2;
const GIVE_UP_MS = 10_000;

/**
 * Writes one event at a time to a fresh device and polls until it is visible, first in latest
 * state, then in the series of its minute, for `durationS`; whatever load runs beside it is the
 * caller's. A probe that never became visible counts as GIVE_UP_MS, so it cannot improve a tail.
 */
export async function probeFreshness(stack: BenchStack, durationS: number, tag: string): Promise<Freshness> {
  const latest: number[] = [];
  const series: number[] = [];
  const strong: number[] = [];
  let strongMisses = 0;
  let strongRefused = 0;
  let acknowledged = 0;
  const headers = { authorization: `Bearer ${stack.apiKey}` };
  const deadline = performance.now() + durationS * 1000;
  for (let i = 0; performance.now() < deadline; i++) {
    const device = `probe-${tag}-${i}`;
    const ts = Date.now();
    const posted = await fetch(`${stack.urls['command-api']}/v1/events`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify({ device, id: `probe-${tag}-${i}`, ts, values: { probe: i } }),
    });
    await posted.arrayBuffer();
    if (posted.status !== 202) continue;
    acknowledged++;
    const acked = performance.now();
    const minute = Math.floor(ts / 60_000) * 60_000;
    const range = `from=${new Date(minute).toISOString()}&to=${new Date(minute + 60_000).toISOString()}`;
    const seriesUrl = `${stack.urls['query-api']}/v1/devices/${device}/series?value=probe&interval=1m&agg=count&${range}`;
    const strongRead = readBucket(`${seriesUrl}&consistency=strong`, headers).then((answer) => {
      strong.push(performance.now() - acked);
      if (answer === 'refused') strongRefused++;
      else if (answer === 'absent') strongMisses++;
    });
    latest.push(await pollUntil(acked, () => isVisible(`${stack.urls['query-api']}/v1/devices/${device}?consistency=eventual`, headers)));
    series.push(await pollUntil(acked, async () => (await readBucket(`${seriesUrl}&consistency=eventual`, headers)) === 'counted'));
    await strongRead;
  }
  return {
    latestP50Ms: quantile(latest, 0.5),
    latestP99Ms: quantile(latest, 0.99),
    seriesP50Ms: quantile(series, 0.5),
    seriesP99Ms: quantile(series, 0.99),
    strongP50Ms: quantile(strong, 0.5),
    strongP99Ms: quantile(strong, 0.99),
    strongMisses,
    strongRefused,
    samples: latest.length,
    acknowledged,
  };
}

async function pollUntil(since: number, visible: () => Promise<boolean>): Promise<number> {
  while (performance.now() - since < GIVE_UP_MS) {
    if (await visible()) return performance.now() - since;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  return GIVE_UP_MS;
}

async function isVisible(url: string, headers: Record<string, string>): Promise<boolean> {
  const read = await fetch(url, { headers });
  await read.arrayBuffer();
  return read.status === 200;
}

/** Whether a series read of the probe's minute counted it: 'refused' when it was not answered 200. */
async function readBucket(url: string, headers: Record<string, string>): Promise<'counted' | 'absent' | 'refused'> {
  const read = await fetch(url, { headers });
  if (read.status !== 200) {
    await read.arrayBuffer();
    return 'refused';
  }
  const body = (await read.json()) as { buckets?: { count?: number }[] };
  return (body.buckets?.[0]?.count ?? 0) >= 1 ? 'counted' : 'absent';
}
