import type { BenchStack } from './start-bench-stack.ts';

export interface DrainCounts {
  /** Drains (projection transactions) since the projector started. */
  drains: number;
  /** Batches those drains carried. */
  batches: number;
}

/**
 * The projector's `strata_drain_batches` histogram, read from its metrics endpoint: its count is the
 * drains, its sum the batches they carried. Two readings around a phase give the phase's batches per
 * drain, what the drains' linger (decision 0096) is for.
 */
export async function readDrainCounts(stack: BenchStack): Promise<DrainCounts> {
  const response = await fetch(`${stack.urls.projector}/metrics`);
  const text = await response.text();
  const sample = (name: string): number => {
    // The registry labels every sample with its service: `name{service="projector"} value`.
    const match = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text);
    if (!match) throw new Error(`the projector's metrics have no ${name}`);
    return Number(match[1]);
  };
  return { drains: sample('strata_drain_batches_count'), batches: sample('strata_drain_batches_sum') };
}

/** Batches per drain between two readings (NaN when no drain ran). */
export function batchesPerDrain(before: DrainCounts, after: DrainCounts): number {
  const drains = after.drains - before.drains;
  return drains > 0 ? (after.batches - before.batches) / drains : Number.NaN;
}
