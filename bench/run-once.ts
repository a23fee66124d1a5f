import type { BenchPhase } from './bench-phases.ts';
import { bytesPerEvent, type BytesPerEvent } from './bytes-per-event.ts';
import { checkGroupExactness, type GroupExactness } from './check-group-exactness.ts';
import { checkStoredEvents, type PointIdentity, type StoredCheck } from './check-stored-events.ts';
import { ComponentCpuSampler, GENERATOR, type ComponentCpu } from './component-cpu.ts';
import { measureBatchIngest, type BatchIngest } from './measure-batch-ingest.ts';
import { measureDeviceFleet, type DeviceFleet } from './measure-device-fleet.ts';
import { measureFreshness, type FreshnessUnderLoad } from './measure-freshness.ts';
import { measureGroupReads, type GroupReads } from './measure-group-reads.ts';
import { checkLabelWrites, LABEL_WRITE_RATE, measureLabelWrites, type LabelWrites } from './measure-label-writes.ts';
import { measureLineProtocolIngest, type LineProtocolIngest } from './measure-line-protocol-ingest.ts';
import { measureMqttIngest, type MqttIngest } from './measure-mqtt-ingest.ts';
import { measureNeighbours, QUIET_RATE, type Neighbours } from './measure-neighbours.ts';
import { measureReads, READ_BACKGROUND_EVENTS, type Reads } from './measure-reads.ts';
import { measureHttpCeiling, type HttpCeiling } from './measure-http-ceiling.ts';
import { measureSingleEvent, type SingleEvent } from './measure-single-event.ts';
import { measureSqlCeiling, type SqlCeiling } from './measure-sql-ceiling.ts';
import { measureSettledSizes, measureTableSizes, type TableSizes } from './measure-table-sizes.ts';
import type { BenchStack } from './start-bench-stack.ts';
import { waitUntilAggregated, type Aggregated } from './wait-until-aggregated.ts';
import { waitUntilSettled } from './wait-until-projected.ts';

export interface BenchPlan {
  /** The phases each run measures (`--only`, with what they need; all by default), in run order. */
  phases: BenchPhase[];
  batchS: number;
  lpS: number;
  mqttS: number;
  fleetS: number;
  singleS: number;
  /** Seconds of each half of the neighbours phase (the quiet tenant alone, then beside the busy one). */
  neighboursS: number;
  /** A byte rate is on: the neighbours phase also runs a busy tenant that honours retry-after. */
  politeBusy?: boolean;
  freshnessS: number;
  /**
   * Seconds of label writes beside ingest. Over a minute: they start at a minute of the wall clock and
   * last past the refresher's claim of that minute (measureLabelWrites); 20 s with --quick, a check only.
   */
  labelsS: number;
  readsS: number;
  /** Seconds of each group read measurement. */
  groupsS: number;
  ceilingRows: number;
  seriesEvents: number;
  /** Minutes between two readings of each device of the group history (5: ≈300k events over 25 h). */
  groupEveryMinutes: number;
}

/** Every measurement of one run; a phase left out by `--only` is absent. */
export interface RunResult {
  ceiling?: SqlCeiling;
  /**
   * The same ceiling measured again once the batch phase and its minutes are done (when both phases
   * run; absent in results written before 2026-12-03 19:00): with `ceiling` it brackets the phase,
   * and the batches' ratio is taken against the mean of the two (decision 0119).
   */
  ceilingAfterBatch?: SqlCeiling;
  batch?: BatchIngest;
  bytes?: BytesPerEvent;
  lp?: LineProtocolIngest;
  mqtt?: MqttIngest;
  fleet?: DeviceFleet;
  single?: SingleEvent;
  /** A bare Node.js HTTP server under the single-event phase's load, just before it (absent before 2026-12-04). */
  httpCeiling?: HttpCeiling;
  /** A quiet tenant's single events alone and beside a tenant sending ~1 MiB bodies (absent before 2026-12-04). */
  neighbours?: Neighbours;
  freshness?: FreshnessUnderLoad;
  labels?: LabelWrites;
  reads?: Reads;
  groups?: GroupReads;
  /** Sampled group answers compared with plain SQL over history, after the group reads. */
  groupExactness?: GroupExactness;
  /**
   * The refresher's state when reads began: they are measured once it has materialized every minute
   * of the earlier phases, up to their last acknowledged event (or after 3 min).
   */
  aggregatedBeforeReads?: Aggregated;
  /** The refresher's state when group reads began (the same wait). */
  aggregatedBeforeGroups?: Aggregated;
  /** The refresher's state when bytes per event were measured. */
  batchAggregated?: Aggregated;
  /**
   * The refresher's state when each ingest phase after the first began: they begin once it has
   * materialized the earlier phases' minutes (absent in results written before 2026-12-03 13:30).
   */
  aggregatedBeforeIngest?: Partial<Record<IngestAfterFirst, Aggregated>>;
  checks: StoredCheck[];
  /** The load generator's CPU per phase, % of a core (the sampler's generator row). */
  cpu: Partial<Record<LoadPhase, number>>;
  /** Every component's CPU per phase, % of a core (absent in results written before 2026-12-03 13:00). */
  componentCpu?: Partial<Record<LoadPhase, ComponentCpu>>;
}

/** The ingest phases that follow another one. */
export type IngestAfterFirst = 'lp' | 'mqtt' | 'fleet' | 'single' | 'neighbours' | 'freshness';

/** The phases that put load on the system, whose CPU is measured. */
export type LoadPhase = 'batch' | 'lp' | 'mqtt' | 'fleet' | 'single' | 'neighbours' | 'labels' | 'reads' | 'groups';

/** One pass over the plan's phases, each alone on the machine, each checked stored = acknowledged. */
export async function runOnce(stack: BenchStack, plan: BenchPlan, run: number, log: (line: string) => void): Promise<RunResult> {
  const has = (phase: BenchPhase) => plan.phases.includes(phase);
  const result: RunResult = { checks: [], cpu: {}, componentCpu: {} };
  // A phase's load, with the generator's CPU and every component's beside it.
  const measured = async <T>(phase: LoadPhase, work: () => Promise<T>): Promise<T> => {
    const sampler = await ComponentCpuSampler.start(stack.db, stack.redis, stack.servicePids());
    try {
      return await work();
    } finally {
      // Also when the load fails: the sampler's timer stops with it.
      const components = await sampler.stop();
      result.componentCpu![phase] = components;
      result.cpu[phase] = components[GENERATOR] ?? 0;
    }
  };
  // The last acknowledged event of the phases so far. Reads are measured beside their own steady
  // ingest, once the refresher has materialized every minute up to it: waiting only for minutes that
  // ended two minutes ago left the batch phase's last minute (830,000 events, a 7–21 s recomputation
  // holding the tenant's aggregate lock, heads included) to land inside the group reads or not by
  // the clock (2026-12-03: the active group's p99 0.4–10.5 s over four runs of one commit).
  let ingestedThroughMs: number | undefined;
  const check = async (scenario: string, window: { fromMs: number; toMs: number }, acknowledged: number, identity?: PointIdentity, tenant = stack.tenant) => {
    ingestedThroughMs = Math.max(ingestedThroughMs ?? window.toMs, window.toMs);
    result.checks.push(await checkStoredEvents(stack.db, tenant, `run ${run}: ${scenario}`, window, acknowledged, identity));
  };
  const waitForEarlierMinutes = () => waitUntilAggregated(stack.db, 180_000, log, Math.max(ingestedThroughMs ?? 0, Date.now() - 120_000));
  // An ingest phase begins once staging has drained and the refresher has materialized the earlier
  // phases' minutes. Until 2026-12-03 only staging was waited for, and each phase met however much of
  // the earlier phases' recomputation the clock left: the single-event phase's 10 s met 5 % of a core
  // of refresher in one run and 17 % in the next (bench/component-cpu.ts), and its rate moved with it.
  // Now a phase pays for its own minutes only; a 10 s phase's own minutes are materialized after it.
  const beginIngest = async (phase: IngestAfterFirst): Promise<void> => {
    await waitUntilSettled(stack.db);
    if (ingestedThroughMs === undefined) return;
    result.aggregatedBeforeIngest ??= {};
    result.aggregatedBeforeIngest[phase] = await waitForEarlierMinutes();
  };
  if (has('ceiling')) {
    await waitUntilSettled(stack.db);
    log(`run ${run}: SQL ceiling (${plan.ceilingRows.toLocaleString('en-US')} rows, plain SQL on one connection)`);
    result.ceiling = await measureSqlCeiling(stack.databaseUrl, plan.ceilingRows, Date.now());
  }

  if (has('batch')) {
    await waitUntilSettled(stack.db);
    log(`run ${run}: batches of 500 over 10k devices (${plan.batchS} s, end to end)`);
    const sizesBefore: TableSizes | undefined = has('bytes') ? await measureTableSizes(stack.db) : undefined;
    const batch = await measured('batch', () => measureBatchIngest(stack, plan.batchS, run));
    result.batch = batch;
    await check('batches of 500', batch.window, batch.acknowledged);
    if (sizesBefore) {
      // Bytes per event count the aggregates of the phase's minutes too: the last one is materialized
      // only after it has ended.
      result.batchAggregated = await waitUntilAggregated(stack.db, 180_000, log, batch.window.toMs);
      result.bytes = bytesPerEvent(sizesBefore, await measureSettledSizes(stack.db, 30_000), batch.acknowledged);
    }
    if (has('ceiling')) {
      // This machine's speed moves within minutes: the same drain cost its PostgreSQL backend 64 ms of
      // CPU at one moment and 118 ms ten minutes later (2026-12-03, no steal). The ceiling is measured
      // again after the phase, once the refresher has recomputed the phase's minutes (a recomputation
      // beside it would lower it), and the batches' ratio is taken against both (decision 0119).
      await waitUntilAggregated(stack.db, 180_000, log, batch.window.toMs);
      log(`run ${run}: SQL ceiling again, after the batches`);
      result.ceilingAfterBatch = await measureSqlCeiling(stack.databaseUrl, plan.ceilingRows, Date.now());
    }
  }

  if (has('lp')) {
    await beginIngest('lp');
    log(`run ${run}: line protocol, gzipped bodies of 500 points over 10k devices (${plan.lpS} s, end to end)`);
    const lp = await measured('lp', () => measureLineProtocolIngest(stack, plan.lpS, run));
    result.lp = lp;
    await check('line protocol', lp.window, lp.acknowledged, 'seq');
  }

  if (has('mqtt')) {
    await beginIngest('mqtt');
    log(`run ${run}: MQTT QoS 1, 100 connections, 20 events a message (${plan.mqttS} s, end to end)`);
    const mqtt = await measured('mqtt', () => measureMqttIngest(stack, plan.mqttS, run));
    result.mqtt = mqtt;
    await check('MQTT', mqtt.window, mqtt.acknowledged, 'id');
  }

  if (has('fleet')) {
    await beginIngest('fleet');
    log(`run ${run}: fleet of 10k devices at 1 event/s each (${plan.fleetS} s)`);
    const fleet = await measured('fleet', () => measureDeviceFleet(stack, plan.fleetS, run));
    result.fleet = fleet;
    await waitUntilSettled(stack.db);
    await check('fleet', fleet.window, fleet.acknowledged);
  }

  if (has('single')) {
    await beginIngest('single');
    log(`run ${run}: HTTP ceiling, a bare Node.js server under the same load (${plan.singleS} s)`);
    result.httpCeiling = await measureHttpCeiling(plan.singleS);
    log(`run ${run}: single events, 64 connections (${plan.singleS} s)`);
    const single = await measured('single', () => measureSingleEvent(stack, plan.singleS, run));
    result.single = single;
    await waitUntilSettled(stack.db);
    await check('single events', single.window, single.acknowledged);
  }

  if (has('neighbours')) {
    await beginIngest('neighbours');
    const polite = plan.politeBusy ? ', then beside one that honours retry-after' : '';
    log(`run ${run}: a quiet tenant's ${QUIET_RATE} single events/s alone, then beside a tenant posting ~1 MiB bodies${polite} (${plan.neighboursS} s each)`);
    const neighbours = await measured('neighbours', () => measureNeighbours(stack, plan.neighboursS, run, plan.politeBusy));
    result.neighbours = neighbours;
    await waitUntilSettled(stack.db);
    const { quiet, busy } = neighbours.tenants;
    await check('quiet tenant alone', neighbours.alone.window, neighbours.alone.acknowledged, 'id', quiet);
    await check('quiet tenant beside a busy one', neighbours.beside.window, neighbours.beside.acknowledged, 'id', quiet);
    await check('busy tenant, ~1 MiB bodies', neighbours.busy.window, neighbours.busy.acknowledged, 'id', busy);
    const { besidePolite, politeBusy } = neighbours;
    if (besidePolite && politeBusy && neighbours.tenants.politeBusy) {
      await check('quiet tenant beside a busy one honouring retry-after', besidePolite.window, besidePolite.acknowledged, 'id', quiet);
      await check('busy tenant honouring retry-after', politeBusy.window, politeBusy.acknowledged, 'id', neighbours.tenants.politeBusy);
    }
  }

  const batchRate = result.batch?.endToEndEventsPerSec ?? 0;
  if (has('freshness')) {
    // Like the ingest phases: until 2026-12-04 freshness began once staging had drained, and met
    // whatever was left of the earlier phases' recomputation (p99 985 ms in a whole run, 89–126 ms in
    // runs of batch and freshness alone).
    await beginIngest('freshness');
    log(`run ${run}: freshness at half the batch rate (${plan.freshnessS} s)`);
    result.freshness = await measureFreshness(stack, batchRate / 2, plan.freshnessS, run);
    await waitUntilSettled(stack.db);
    await check('freshness', result.freshness.window, result.freshness.totalAcknowledged);
  }

  if (has('labels')) {
    await waitUntilSettled(stack.db);
    // Its own minutes' claims, not the earlier phases', are what the label writes should meet.
    await waitForEarlierMinutes();
    log(`run ${run}: label writes, ${LABEL_WRITE_RATE}/s beside batches at half the batch rate (${plan.labelsS} s)`);
    const labels = await measured('labels', () => measureLabelWrites(stack, plan.labelsS, batchRate / 2, run, plan.labelsS > 60));
    result.labels = labels;
    await waitUntilSettled(stack.db);
    await check('label writes (background ingest)', labels.window, labels.background.acknowledged);
    result.checks.push(await checkLabelWrites(stack.db, stack.tenant, run, labels));
  }

  if (has('reads')) {
    await waitUntilSettled(stack.db);
    result.aggregatedBeforeReads = await waitForEarlierMinutes();
    const readBackground = Math.min(READ_BACKGROUND_EVENTS, batchRate / 2);
    log(`run ${run}: reads under ingest of ${Math.round(readBackground)} events/s (${plan.readsS} s each)`);
    const reads = await measured('reads', () => measureReads(stack, plan.readsS, readBackground, run));
    result.reads = reads;
    await waitUntilSettled(stack.db);
    await check('reads (background ingest)', reads.window, reads.background.acknowledged);
  }

  if (has('groups')) {
    await waitUntilSettled(stack.db);
    result.aggregatedBeforeGroups = await waitForEarlierMinutes();
    const readBackground = Math.min(READ_BACKGROUND_EVENTS, batchRate / 2);
    log(`run ${run}: group reads over 1,000 devices under ingest of ${Math.round(readBackground)} events/s (${plan.groupsS} s each)`);
    const groups = await measured('groups', () => measureGroupReads(stack, plan.groupsS, readBackground, run));
    result.groups = groups;
    await waitUntilSettled(stack.db);
    await check('group reads (background ingest)', groups.window, groups.background.acknowledged);
    result.groupExactness = await checkGroupExactness(stack, run, plan.groupEveryMinutes);
  }
  return result;
}
