import { bytesPerEvent, type BytesPerEvent } from './bytes-per-event.ts';
import { checkStoredEvents, type StoredCheck } from './check-stored-events.ts';
import { withGeneratorCpu } from './generator-cpu.ts';
import { measureBatchIngest, type BatchIngest } from './measure-batch-ingest.ts';
import { measureDeviceFleet, type DeviceFleet } from './measure-device-fleet.ts';
import { measureFreshness, type FreshnessUnderLoad } from './measure-freshness.ts';
import { measureReads, READ_BACKGROUND_EVENTS, type Reads } from './measure-reads.ts';
import { measureSingleEvent, type SingleEvent } from './measure-single-event.ts';
import { measureSqlCeiling, type SqlCeiling } from './measure-sql-ceiling.ts';
import { measureSettledSizes, measureTableSizes } from './measure-table-sizes.ts';
import type { BenchStack } from './start-bench-stack.ts';
import { waitUntilAggregated, type Aggregated } from './wait-until-aggregated.ts';
import { waitUntilSettled } from './wait-until-projected.ts';

export interface BenchPlan {
  batchS: number;
  fleetS: number;
  singleS: number;
  freshnessS: number;
  readsS: number;
  ceilingRows: number;
  seriesEvents: number;
}

export interface RunResult {
  ceiling: SqlCeiling;
  batch: BatchIngest;
  bytes: BytesPerEvent;
  fleet: DeviceFleet;
  single: SingleEvent;
  freshness: FreshnessUnderLoad;
  reads: Reads;
  /** The refresher's state when reads began (they are measured once it has caught up, or after 2 min). */
  aggregatedBeforeReads: Aggregated;
  /** The refresher's state when bytes per event were measured. */
  batchAggregated: Aggregated;
  checks: StoredCheck[];
  cpu: { batch: number; fleet: number; single: number; reads: number };
}

/** One pass over every measurement, each phase alone on the machine, each checked stored = acknowledged. */
export async function runOnce(stack: BenchStack, plan: BenchPlan, run: number, log: (line: string) => void): Promise<RunResult> {
  const checks: StoredCheck[] = [];
  const check = async (scenario: string, window: { fromMs: number; toMs: number }, acknowledged: number) => {
    checks.push(await checkStoredEvents(stack.db, stack.tenant, `run ${run}: ${scenario}`, window, acknowledged));
  };
  await waitUntilSettled(stack.db);
  log(`run ${run}: SQL ceiling (${plan.ceilingRows.toLocaleString('en-US')} rows, plain SQL on one connection)`);
  const ceiling = await measureSqlCeiling(stack.databaseUrl, plan.ceilingRows, Date.now());

  await waitUntilSettled(stack.db);
  log(`run ${run}: batches of 500 over 10k devices (${plan.batchS} s, end to end)`);
  const sizesBefore = await measureTableSizes(stack.db);
  const batch = await withGeneratorCpu(() => measureBatchIngest(stack, plan.batchS, run));
  await check('batches of 500', batch.result.window, batch.result.acknowledged);
  // Bytes per event count the aggregates of the phase's minutes too: the last one is materialized
  // only after it has ended.
  const batchAggregated = await waitUntilAggregated(stack.db, 180_000, log, batch.result.window.toMs);
  const bytes = bytesPerEvent(sizesBefore, await measureSettledSizes(stack.db, 30_000), batch.result.acknowledged);

  await waitUntilSettled(stack.db);
  log(`run ${run}: fleet of 10k devices at 1 event/s each (${plan.fleetS} s)`);
  const fleet = await withGeneratorCpu(() => measureDeviceFleet(stack, plan.fleetS, run));
  await waitUntilSettled(stack.db);
  await check('fleet', fleet.result.window, fleet.result.acknowledged);

  log(`run ${run}: single events, 64 connections (${plan.singleS} s)`);
  const single = await withGeneratorCpu(() => measureSingleEvent(stack, plan.singleS, run));
  await waitUntilSettled(stack.db);
  await check('single events', single.result.window, single.result.acknowledged);

  log(`run ${run}: freshness at half the batch rate (${plan.freshnessS} s)`);
  const freshness = await measureFreshness(stack, batch.result.endToEndEventsPerSec / 2, plan.freshnessS, run);
  await waitUntilSettled(stack.db);
  await check('freshness', freshness.window, freshness.totalAcknowledged);

  const aggregatedBeforeReads = await waitUntilAggregated(stack.db, 120_000, log);
  const readBackground = Math.min(READ_BACKGROUND_EVENTS, batch.result.endToEndEventsPerSec / 2);
  log(`run ${run}: reads under ingest of ${Math.round(readBackground)} events/s (${plan.readsS} s each)`);
  const reads = await withGeneratorCpu(() => measureReads(stack, plan.readsS, readBackground, run));
  await waitUntilSettled(stack.db);
  await check('reads (background ingest)', reads.result.window, reads.result.background.acknowledged);
  return {
    ceiling,
    batch: batch.result,
    bytes,
    fleet: fleet.result,
    single: single.result,
    freshness,
    reads: reads.result,
    aggregatedBeforeReads,
    batchAggregated,
    checks,
    cpu: { batch: batch.generatorCpuPercent, fleet: fleet.generatorCpuPercent, single: single.generatorCpuPercent, reads: reads.generatorCpuPercent },
  };
}
