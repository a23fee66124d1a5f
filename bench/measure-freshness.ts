import { backgroundBatchLoad } from './background-batch-load.ts';
import { probeFreshness, type Freshness } from './probe-freshness.ts';
import type { BenchStack } from './start-bench-stack.ts';

export interface FreshnessUnderLoad extends Freshness {
  backgroundEventsPerSec: number;
  window: { fromMs: number; toMs: number };
  /** Background and probe events acknowledged. */
  totalAcknowledged: number;
}

/** Freshness probes while batches arrive at `eventsPerSec` (half the batch scenario's end-to-end rate). */
export async function measureFreshness(stack: BenchStack, eventsPerSec: number, durationS: number, run: number): Promise<FreshnessUnderLoad> {
  const fromMs = Date.now();
  const [load, freshness] = await Promise.all([
    backgroundBatchLoad(stack, eventsPerSec, durationS, `fresh${run}`),
    probeFreshness(stack, durationS - 1, `fresh${run}`),
  ]);
  return {
    ...freshness,
    backgroundEventsPerSec: load.acceptedEvents / load.durationS,
    window: { fromMs, toMs: Date.now() },
    totalAcknowledged: load.acceptedEvents + freshness.acknowledged,
  };
}
