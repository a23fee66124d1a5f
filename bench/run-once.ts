import { withGeneratorCpu } from './generator-cpu.ts';
import { measureFreshness, type Freshness } from './measure-freshness.ts';
import { measureRawLimit, type RawLimit } from './measure-raw-limit.ts';
import { measureReads, type Reads } from './measure-reads.ts';
import { measureSingleEvent, type SingleEvent } from './measure-single-event.ts';
import { measureSustainedIngest, type SustainedIngest } from './measure-sustained-ingest.ts';
import type { BenchStack } from './start-bench-stack.ts';
import { waitUntilSettled } from './wait-until-projected.ts';

export interface BenchPlan {
  sustainedS: number;
  singleS: number;
  freshnessS: number;
  readsS: number;
  rawEvents: number;
  seriesEvents: number;
}

export interface RunResult {
  sustained: SustainedIngest;
  single: SingleEvent;
  freshness: Freshness;
  reads: Reads;
  raw: RawLimit;
  cpu: { sustained: number; single: number; reads: number };
}

/** One pass over every measurement, each phase alone on the machine. */
export async function runOnce(stack: BenchStack, plan: BenchPlan, run: number, log: (line: string) => void): Promise<RunResult> {
  await waitUntilSettled(stack.db);
  log(`run ${run}: sustained ingest (${plan.sustainedS} s)`);
  const sustained = await withGeneratorCpu(() => measureSustainedIngest(stack, plan.sustainedS, run));
  await waitUntilSettled(stack.db);
  log(`run ${run}: single-event requests (${plan.singleS} s)`);
  const single = await withGeneratorCpu(() => measureSingleEvent(stack, plan.singleS, run));
  await waitUntilSettled(stack.db);
  log(`run ${run}: freshness at half the sustained rate (${plan.freshnessS} s)`);
  const freshness = await measureFreshness(stack, sustained.result.projectedEventsPerSec / 2, plan.freshnessS, run);
  await waitUntilSettled(stack.db);
  log(`run ${run}: reads (${plan.readsS} s each)`);
  const reads = await withGeneratorCpu(() => measureReads(stack, plan.readsS));
  await waitUntilSettled(stack.db);
  log(`run ${run}: raw limit (${plan.rawEvents} events)`);
  const raw = await measureRawLimit(stack.databaseUrl, stack.tenant, plan.rawEvents, 4, run);
  return {
    sustained: sustained.result,
    single: single.result,
    freshness,
    reads: reads.result,
    raw,
    cpu: { sustained: sustained.generatorCpuPercent, single: single.generatorCpuPercent, reads: reads.generatorCpuPercent },
  };
}
