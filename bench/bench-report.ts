import type { GroupReads } from './measure-group-reads.ts';
import { FLEET_RATE } from './measure-device-fleet.ts';
import { LABEL_WRITE_RATE } from './measure-label-writes.ts';
import { MQTT_CONNECTIONS, MQTT_EVENTS_PER_MESSAGE } from './measure-mqtt-ingest.ts';
import { READ_RATE, SPAN_READ_RATE, type Reads } from './measure-reads.ts';
import { median } from './percentiles.ts';
import type { LoadPhase, RunResult } from './run-once.ts';

export interface Row {
  metric: string;
  value: number;
  unit: string;
  target?: { op: '>=' | '<='; value: number };
  /**
   * The median over the runs whose phase had little steal (STEAL_LIMIT), when some run's phase had
   * more: `runs` says how many were left (0: none, and no value).
   */
  lowSteal?: { value?: number; runs: number };
}

/**
 * Steal, in % of a core averaged over a phase, above which the phase was measured on a disturbed
 * machine: the hypervisor ran other guests on these cores. On 2026-12-03 the single-event phase ran at
 * 4,949 req/s with 0.9 % of a core stolen and at 3,231 and 3,125 with 12 and 34 % (decision 0116);
 * every process then spent about twice its CPU per request. Such a phase is not comparable with one
 * measured without, so the table also gives each median without the stolen phases (decision 0118).
 */
export const STEAL_LIMIT = 5;

/** The load phases of a run whose steal passed STEAL_LIMIT, with their steal (% of a core). */
export function stolenPhases(run: RunResult): { phase: LoadPhase; steal: number }[] {
  return (Object.keys(PHASE_TITLES) as LoadPhase[]).flatMap((phase) => {
    const steal = run.componentCpu?.[phase]?.steal;
    return steal !== undefined && steal > STEAL_LIMIT ? [{ phase, steal }] : [];
  });
}

/** The run as if its stolen phases had not run: the rows that read them find nothing. */
function withoutStolenPhases(run: RunResult): RunResult {
  const copy: RunResult = { ...run, cpu: { ...run.cpu } };
  for (const { phase } of stolenPhases(run)) {
    delete copy[phase];
    delete copy.cpu[phase];
  }
  return copy;
}

/**
 * The medians across runs of every number the issue asks for, with its target where it has one; a
 * row whose phase did not run (`--only`) is left out. Every ratio to "SQL ceiling" is Strata's number
 * over the SQL ceiling measured in the same run, every ratio to "HTTP batches" over the batch phase's
 * end-to-end rate of the same run.
 */
export function summarize(runs: RunResult[]): Row[] {
  const specs: Spec[] = [
    { metric: 'SQL ceiling (plain SQL, same server, same run)', pick: (r) => r.ceiling?.rowsPerSec, unit: 'rows/s' },
    { metric: 'SQL ceiling again, after the batches', pick: (r) => r.ceilingAfterBatch?.rowsPerSec, unit: 'rows/s' },
    { metric: 'SQL ceiling after the batches / before', pick: (r) => ratio(r.ceilingAfterBatch?.rowsPerSec, r.ceiling?.rowsPerSec), unit: '×' },
    { metric: 'batches of 500, accepted', pick: (r) => r.batch?.acceptedEventsPerSec, unit: 'events/s' },
    { metric: 'batches of 500, end to end (in history)', pick: (r) => r.batch?.endToEndEventsPerSec, unit: 'events/s', target: { op: '>=', value: 50_000 } },
    { metric: 'batches end to end / SQL ceiling (mean of both)', pick: (r) => ratio(r.batch?.endToEndEventsPerSec, batchCeiling(r)), unit: '×', target: { op: '>=', value: 0.4 } },
    { metric: 'batches end to end / SQL ceiling before them', pick: (r) => r.ceilingAfterBatch && ratio(r.batch?.endToEndEventsPerSec, r.ceiling?.rowsPerSec), unit: '×' },
    { metric: 'batches: backlog slope while loading', pick: (r) => r.batch?.backlog.slopeEventsPerSec, unit: 'events/s' },
    { metric: 'batches: drain after the load', pick: (r) => r.batch?.drainMs, unit: 'ms' },
    { metric: 'batches: batches per drain', pick: (r) => r.batch?.batchesPerDrain, unit: 'batches' },
    { metric: 'batches: events per drain', pick: (r) => r.batch?.eventsPerDrain, unit: 'events' },
    { metric: 'bytes per event, all-in (batch workload)', pick: (r) => r.bytes?.allIn, unit: 'B', target: { op: '<=', value: 250 } },
    { metric: 'bytes: ended minutes not yet materialized', pick: (r) => r.batchAggregated?.notedMinutes, unit: 'minutes' },
    { metric: 'line protocol, 500 points gzip, accepted', pick: (r) => r.lp?.acceptedPointsPerSec, unit: 'points/s' },
    { metric: 'line protocol, end to end (in history)', pick: (r) => r.lp?.endToEndPointsPerSec, unit: 'points/s' },
    { metric: 'line protocol end to end / HTTP batches', pick: (r) => ratio(r.lp?.endToEndPointsPerSec, r.batch?.endToEndEventsPerSec), unit: '×', target: { op: '>=', value: 0.8 } },
    { metric: 'line protocol: request p99', pick: (r) => r.lp?.requestP99Ms, unit: 'ms' },
    { metric: 'line protocol: batches per drain', pick: (r) => r.lp?.batchesPerDrain, unit: 'batches' },
    { metric: 'line protocol: events per drain', pick: (r) => r.lp?.eventsPerDrain, unit: 'events' },
    { metric: 'line protocol: refused or unanswered', pick: (r) => r.lp && r.lp.refused + r.lp.unanswered, unit: 'requests', target: { op: '<=', value: 0 } },
    { metric: `MQTT QoS 1, ${MQTT_CONNECTIONS} conns × ${MQTT_EVENTS_PER_MESSAGE} events, PUBACKed`, pick: (r) => r.mqtt?.acceptedEventsPerSec, unit: 'events/s' },
    { metric: 'MQTT, end to end (in history)', pick: (r) => r.mqtt?.endToEndEventsPerSec, unit: 'events/s' },
    { metric: 'MQTT end to end / HTTP batches', pick: (r) => ratio(r.mqtt?.endToEndEventsPerSec, r.batch?.endToEndEventsPerSec), unit: '×', target: { op: '>=', value: 0.8 } },
    { metric: 'MQTT publish → PUBACK p50', pick: (r) => r.mqtt?.publishP50Ms, unit: 'ms' },
    { metric: 'MQTT publish → PUBACK p99', pick: (r) => r.mqtt?.publishP99Ms, unit: 'ms' },
    { metric: 'MQTT: refused or unanswered', pick: (r) => r.mqtt && r.mqtt.refused + r.mqtt.unanswered, unit: 'messages', target: { op: '<=', value: 0 } },
    { metric: `fleet: offered`, pick: (r) => r.fleet && FLEET_RATE, unit: 'req/s' },
    { metric: 'fleet: achieved', pick: (r) => r.fleet?.achievedPerSec, unit: 'req/s', target: { op: '>=', value: FLEET_RATE * 0.99 } },
    { metric: 'fleet: achieved / SQL ceiling', pick: (r) => ratio(r.fleet?.achievedPerSec, r.ceiling?.rowsPerSec), unit: '×' },
    { metric: 'fleet: not sent (4 × connections unanswered)', pick: (r) => r.fleet?.missed, unit: 'requests' },
    { metric: 'fleet: p50', pick: (r) => r.fleet?.p50Ms, unit: 'ms' },
    { metric: 'fleet: p99', pick: (r) => r.fleet?.p99Ms, unit: 'ms', target: { op: '<=', value: 25 } },
    { metric: 'fleet: batches per drain', pick: (r) => r.fleet?.batchesPerDrain, unit: 'batches' },
    { metric: 'fleet: backlog slope', pick: (r) => r.fleet?.backlog.slopeEventsPerSec, unit: 'events/s', target: { op: '<=', value: FLEET_RATE * 0.01 } },
    { metric: 'fleet: freshness p99, latest state', pick: (r) => r.fleet?.freshness.latestP99Ms, unit: 'ms', target: { op: '<=', value: 250 } },
    { metric: 'fleet: freshness p99, series', pick: (r) => r.fleet?.freshness.seriesP99Ms, unit: 'ms', target: { op: '<=', value: 250 } },
    { metric: 'fleet: strong reads missing their write (all runs)', pick: (r) => r.fleet?.freshness.strongMisses, unit: 'reads', target: { op: '<=', value: 0 }, across: 'sum' },
    { metric: 'fleet: strong reads refused (all runs)', pick: (r) => r.fleet?.freshness.strongRefused, unit: 'reads', across: 'sum' },
    { metric: 'single events, 64 connections', pick: (r) => r.single?.requestsPerSec, unit: 'req/s', target: { op: '>=', value: 12_000 } },
    { metric: 'single events / SQL ceiling', pick: (r) => ratio(r.single?.requestsPerSec, r.ceiling?.rowsPerSec), unit: '×' },
    { metric: 'HTTP ceiling: bare node:http, same load', pick: (r) => r.httpCeiling?.requestsPerSec, unit: 'req/s' },
    { metric: 'HTTP ceiling: its server per request', pick: (r) => r.httpCeiling?.serverMicrosPerRequest, unit: 'µs of CPU' },
    { metric: 'single events / HTTP ceiling', pick: (r) => ratio(r.single?.requestsPerSec, r.httpCeiling?.requestsPerSec), unit: '×' },
    { metric: 'single events p50', pick: (r) => r.single?.p50Ms, unit: 'ms' },
    { metric: 'single events p99', pick: (r) => r.single?.p99Ms, unit: 'ms', target: { op: '<=', value: 25 } },
    { metric: 'single events: batches per drain', pick: (r) => r.single?.batchesPerDrain, unit: 'batches' },
    { metric: 'single events: requests per group commit', pick: (r) => r.single?.requestsPerBatch, unit: 'requests' },
    { metric: 'single events: mean group-commit write', pick: (r) => r.single?.meanBatchWriteMs, unit: 'ms' },
    { metric: 'quiet tenant alone, 200 events/s: p50', pick: (r) => r.neighbours?.alone.p50Ms, unit: 'ms' },
    { metric: 'quiet tenant alone: p99', pick: (r) => r.neighbours?.alone.p99Ms, unit: 'ms' },
    { metric: 'quiet tenant beside ~1 MiB bodies: p50', pick: (r) => r.neighbours?.beside.p50Ms, unit: 'ms' },
    { metric: 'quiet tenant beside ~1 MiB bodies: p99', pick: (r) => r.neighbours?.beside.p99Ms, unit: 'ms' },
    { metric: 'quiet tenant: p99 beside / alone', pick: (r) => ratio(r.neighbours?.beside.p99Ms, r.neighbours?.alone.p99Ms), unit: '×' },
    { metric: 'quiet tenant: requests refused or unsent', pick: (r) => (r.neighbours ? r.neighbours.alone.refused + r.neighbours.beside.refused : undefined), unit: 'requests' },
    { metric: 'busy tenant: ~1 MiB bodies', pick: (r) => r.neighbours?.busy.bodiesPerSec, unit: 'bodies/s' },
    { metric: 'busy tenant: p99', pick: (r) => r.neighbours?.busy.p99Ms, unit: 'ms' },
    { metric: 'busy tenant: bodies refused', pick: (r) => r.neighbours?.busy.refused, unit: 'requests' },
    { metric: 'quiet tenant beside one honouring retry-after: p50', pick: (r) => r.neighbours?.besidePolite?.p50Ms, unit: 'ms' },
    { metric: 'quiet tenant beside one honouring retry-after: p99', pick: (r) => r.neighbours?.besidePolite?.p99Ms, unit: 'ms' },
    { metric: 'quiet tenant beside it: refused or unsent', pick: (r) => r.neighbours?.besidePolite?.refused, unit: 'requests' },
    { metric: 'busy tenant honouring retry-after: bodies', pick: (r) => r.neighbours?.politeBusy?.bodiesPerSec, unit: 'bodies/s' },
    { metric: 'busy tenant honouring retry-after: refused', pick: (r) => r.neighbours?.politeBusy?.refused, unit: 'requests' },
    { metric: "ingest waits for earlier minutes timed out (all runs)", pick: (r) => timedOutWaits(r), unit: 'waits', target: { op: '<=', value: 0 }, across: 'sum' },
    { metric: 'freshness: background load', pick: (r) => r.freshness?.backgroundEventsPerSec, unit: 'events/s' },
    { metric: 'freshness p50, latest state', pick: (r) => r.freshness?.latestP50Ms, unit: 'ms' },
    { metric: 'freshness p99, latest state', pick: (r) => r.freshness?.latestP99Ms, unit: 'ms', target: { op: '<=', value: 250 } },
    { metric: 'freshness p99, series', pick: (r) => r.freshness?.seriesP99Ms, unit: 'ms', target: { op: '<=', value: 250 } },
    { metric: 'strong series read after a 202: p50', pick: (r) => r.freshness?.strongP50Ms, unit: 'ms' },
    { metric: 'strong series read after a 202: p99', pick: (r) => r.freshness?.strongP99Ms, unit: 'ms' },
    { metric: 'strong reads missing their write (all runs)', pick: (r) => r.freshness?.strongMisses, unit: 'reads', target: { op: '<=', value: 0 }, across: 'sum' },
    { metric: 'strong reads refused (all runs)', pick: (r) => r.freshness?.strongRefused, unit: 'reads', across: 'sum' },
    { metric: `label writes (${LABEL_WRITE_RATE} PUT/s), beside ingest of`, pick: (r) => r.labels?.background.eventsPerSec, unit: 'events/s' },
    { metric: 'label writes p50', pick: (r) => r.labels?.load.p50Ms, unit: 'ms' },
    { metric: 'label writes p99', pick: (r) => r.labels?.load.p99Ms, unit: 'ms' },
    { metric: 'label writes refused (all runs)', pick: (r) => r.labels?.refused, unit: 'requests', target: { op: '<=', value: 0 }, across: 'sum' },
    { metric: `reads (${READ_RATE} req/s latest state, ${SPAN_READ_RATE} series, stats), beside ingest of`, pick: (r) => r.reads?.background.eventsPerSec, unit: 'events/s' },
    { metric: 'reads: ended minutes not yet materialized', pick: (r) => r.aggregatedBeforeReads?.notedMinutes, unit: 'minutes' },
    { metric: "reads: waited for the earlier phases' minutes", pick: (r) => r.aggregatedBeforeReads?.waitedMs, unit: 'ms' },
    { metric: 'latest state, cache p50', pick: (r) => r.reads?.cache.p50Ms, unit: 'ms' },
    { metric: 'latest state, cache p99', pick: (r) => r.reads?.cache.p99Ms, unit: 'ms' },
    { metric: 'latest state, strong p50', pick: (r) => r.reads?.strong.p50Ms, unit: 'ms' },
    { metric: 'latest state, strong p99', pick: (r) => r.reads?.strong.p99Ms, unit: 'ms' },
    { metric: 'latest state, strong: achieved', pick: (r) => r.reads?.strong.requestsPerSec, unit: 'req/s' },
    { metric: 'series 24 h @ 1m: achieved', pick: (r) => r.reads?.series24h1m.requestsPerSec, unit: 'req/s' },
    { metric: 'series 24 h @ 1m p50', pick: (r) => r.reads?.series24h1m.p50Ms, unit: 'ms' },
    { metric: 'series 24 h @ 1m p99', pick: (r) => r.reads?.series24h1m.p99Ms, unit: 'ms', target: { op: '<=', value: 20 } },
    { metric: 'series 24 h @ 1m, a new range each read: achieved', pick: (r) => r.reads?.series24h1mFresh?.requestsPerSec, unit: 'req/s' },
    { metric: 'series 24 h @ 1m, a new range each read p50', pick: (r) => r.reads?.series24h1mFresh?.p50Ms, unit: 'ms' },
    { metric: 'series 24 h @ 1m, a new range each read p99', pick: (r) => r.reads?.series24h1mFresh?.p99Ms, unit: 'ms', target: { op: '<=', value: 20 } },
    { metric: 'series 30 d @ 1h: achieved', pick: (r) => r.reads?.series30d1h.requestsPerSec, unit: 'req/s' },
    { metric: 'series 30 d @ 1h p50', pick: (r) => r.reads?.series30d1h.p50Ms, unit: 'ms' },
    { metric: 'series 30 d @ 1h p99', pick: (r) => r.reads?.series30d1h.p99Ms, unit: 'ms', target: { op: '<=', value: 20 } },
    { metric: 'stats 24 h @ 1m: achieved', pick: (r) => r.reads?.stats24h1m.requestsPerSec, unit: 'req/s' },
    { metric: 'stats 24 h @ 1m p50', pick: (r) => r.reads?.stats24h1m.p50Ms, unit: 'ms' },
    { metric: 'stats 24 h @ 1m p99', pick: (r) => r.reads?.stats24h1m.p99Ms, unit: 'ms', target: { op: '<=', value: 20 } },
    { metric: 'reads refused or failed', pick: (r) => r.reads && sumRefused(r.reads), unit: 'requests', target: { op: '<=', value: 0 } },
    { metric: `group reads (${READ_RATE} req/s closed hours, total; ${SPAN_READ_RATE} live edges), beside ingest of`, pick: (r) => r.groups?.background.eventsPerSec, unit: 'events/s' },
    { metric: 'groups: noted minutes not yet materialized', pick: (r) => r.aggregatedBeforeGroups && r.aggregatedBeforeGroups.notedMinutes + r.aggregatedBeforeGroups.groupNotes, unit: 'minutes' },
    { metric: "groups: waited for the earlier phases' minutes", pick: (r) => r.aggregatedBeforeGroups?.waitedMs, unit: 'ms' },
    { metric: 'group series 24 h @ 1h: achieved', pick: (r) => r.groups?.series24h1h.requestsPerSec, unit: 'req/s' },
    { metric: 'group series 24 h @ 1h, 1,000 devices p50', pick: (r) => r.groups?.series24h1h.p50Ms, unit: 'ms' },
    { metric: 'group series 24 h @ 1h, 1,000 devices p99', pick: (r) => r.groups?.series24h1h.p99Ms, unit: 'ms', target: { op: '<=', value: 50 } },
    { metric: 'group series 24 h @ 1h ending now: achieved', pick: (r) => r.groups?.seriesLiveEdge?.requestsPerSec, unit: 'req/s' },
    { metric: 'group series ending now (live edge) p50', pick: (r) => r.groups?.seriesLiveEdge?.p50Ms, unit: 'ms' },
    { metric: 'group series ending now (live edge) p99', pick: (r) => r.groups?.seriesLiveEdge?.p99Ms, unit: 'ms', target: { op: '<=', value: 50 } },
    { metric: 'active group (members sending) ending now: achieved', pick: (r) => r.groups?.activeLiveEdge?.requestsPerSec, unit: 'req/s' },
    { metric: 'active group series ending now p50', pick: (r) => r.groups?.activeLiveEdge?.p50Ms, unit: 'ms' },
    { metric: 'active group series ending now p99', pick: (r) => r.groups?.activeLiveEdge?.p99Ms, unit: 'ms', target: { op: '<=', value: 50 } },
    { metric: 'active group: sampled reads answered by a head', pick: (r) => headShare(r.groups?.activeHeads), unit: '%' },
    { metric: 'active group: head-answered lag p50', pick: (r) => r.groups?.activeHeads?.lagP50Ms, unit: 'ms' },
    { metric: 'group total at a random instant: achieved', pick: (r) => r.groups?.totalAtRandom.requestsPerSec, unit: 'req/s' },
    { metric: 'group total at a random instant p50', pick: (r) => r.groups?.totalAtRandom.p50Ms, unit: 'ms' },
    { metric: 'group total at a random instant p99', pick: (r) => r.groups?.totalAtRandom.p99Ms, unit: 'ms', target: { op: '<=', value: 50 } },
    { metric: 'group reads refused or failed', pick: (r) => r.groups && sumGroupRefused(r.groups), unit: 'requests', target: { op: '<=', value: 0 } },
    { metric: 'group answers differing from SQL (sampled)', pick: (r) => r.groupExactness?.mismatches.length, unit: 'answers', target: { op: '<=', value: 0 } },
    { metric: 'generator CPU: batches', pick: (r) => r.cpu.batch, unit: '% of a core' },
    { metric: 'generator CPU: line protocol', pick: (r) => r.cpu.lp, unit: '% of a core' },
    { metric: 'generator CPU: MQTT', pick: (r) => r.cpu.mqtt, unit: '% of a core' },
    { metric: 'generator CPU: fleet', pick: (r) => r.cpu.fleet, unit: '% of a core' },
    { metric: 'generator CPU: single events', pick: (r) => r.cpu.single, unit: '% of a core' },
    { metric: 'generator CPU: neighbours', pick: (r) => r.cpu.neighbours, unit: '% of a core' },
    { metric: 'generator CPU: label writes', pick: (r) => r.cpu.labels, unit: '% of a core' },
    { metric: 'generator CPU: reads', pick: (r) => r.cpu.reads, unit: '% of a core' },
    { metric: 'generator CPU: group reads', pick: (r) => r.cpu.groups, unit: '% of a core' },
  ];
  const calm = runs.map(withoutStolenPhases);
  const rows: Row[] = [];
  for (const { pick, across, ...row } of specs) {
    const values = runs.map(pick);
    // Results written before a field existed (strongRefused) leave it undefined: the row is left out.
    if (values.some((value) => value === undefined)) continue;
    const numbers = values as number[];
    if (across === 'sum') {
      rows.push({ ...row, value: numbers.reduce((sum, value) => sum + value, 0) });
      continue;
    }
    const calmNumbers = calm.map(pick).filter((value) => value !== undefined);
    const lowSteal = calmNumbers.length < numbers.length ? { runs: calmNumbers.length, ...(calmNumbers.length > 0 && { value: median(calmNumbers) }) } : undefined;
    rows.push({ ...row, value: median(numbers), ...(lowSteal && { lowSteal }) });
  }
  return rows;
}

interface Spec extends Omit<Row, 'value'> {
  /** The run's number, undefined when a phase it needs did not run. */
  pick: (run: RunResult) => number | undefined;
  /**
   * How runs combine: the median (the default), or the sum, for counts that must be 0 in every run:
   * a median of three hides one run's count (stop 34's full run counted 3 strong reads without their
   * write in one run's fleet phase, refusals then included, and reported 0).
   */
  across?: 'median' | 'sum';
}

/**
 * The ceiling the batches' ratio is taken against: the mean of the ceilings measured before and after
 * the phase, which bracket it, or the one before in results without the second (decision 0119).
 */
export function batchCeiling(run: RunResult): number | undefined {
  const before = run.ceiling?.rowsPerSec;
  const after = run.ceilingAfterBatch?.rowsPerSec;
  return before === undefined || after === undefined ? before : (before + after) / 2;
}

function ratio(value: number | undefined, of: number | undefined): number | undefined {
  return value === undefined || of === undefined ? undefined : value / of;
}

/** The ingest phases whose wait for the earlier phases' minutes ended at its timeout (undefined: none waited). */
function timedOutWaits(run: RunResult): number | undefined {
  const waits = Object.values(run.aggregatedBeforeIngest ?? {});
  return waits.length === 0 ? undefined : waits.filter((wait) => !wait.caughtUp).length;
}

function sumRefused(reads: Reads): number {
  const { cache, strong, series24h1m, series24h1mFresh, series30d1h, stats24h1m } = reads;
  // Results written before the never-kept series read have no series24h1mFresh.
  return [cache, strong, series24h1m, series24h1mFresh, series30d1h, stats24h1m].reduce((sum, load) => sum + (load ? load.non2xx + load.errors : 0), 0);
}

function headShare(heads: GroupReads['activeHeads']): number | undefined {
  return heads && heads.samples > 0 ? (100 * heads.answeredByHead) / heads.samples : undefined;
}

function sumGroupRefused(groups: GroupReads): number {
  return [groups.series24h1h, groups.seriesLiveEdge, groups.totalAtRandom, groups.activeLiveEdge]
    .reduce((sum, load) => sum + (load ? load.non2xx + load.errors : 0), 0);
}

export function formatTable(rows: Row[], runs: number): string {
  const stolen = rows.some((row) => row.lowSteal);
  const lines = [
    `${'metric'.padEnd(50)} ${'median of ' + runs}`.padEnd(72) + ` ${stolen ? `${'target'.padEnd(20)} median, runs with steal <= ${STEAL_LIMIT} %` : 'target'}`,
    '-'.repeat(stolen ? 134 : 92),
  ];
  for (const row of rows) {
    const met = row.target && (row.target.op === '>=' ? row.value >= row.target.value : row.value <= row.target.value);
    const verdict = row.target ? `${row.target.op} ${row.target.value.toLocaleString('en-US')}  ${met ? 'met' : 'MISSED'}` : '';
    const calm = row.lowSteal ? `${row.lowSteal.value === undefined ? '-' : `${formatNumber(row.lowSteal.value)} ${row.unit}`} (${row.lowSteal.runs} of ${runs} runs)` : '';
    lines.push(`${row.metric.padEnd(50)} ${(formatNumber(row.value) + ' ' + row.unit).padEnd(21)} ${calm ? `${verdict.padEnd(20)} ${calm}` : verdict}`);
  }
  return lines.join('\n');
}

function formatNumber(value: number): string {
  return Math.abs(value) >= 100 ? Math.round(value).toLocaleString('en-US') : value.toFixed(2);
}

/** Which phases the hypervisor took more than STEAL_LIMIT from, run by run, or that none was. */
export function describeSteal(runs: RunResult[]): string | undefined {
  const measured = runs.some((run) => run.componentCpu && Object.keys(run.componentCpu).length > 0);
  if (!measured) return undefined;
  const stolen = runs.flatMap((run, index) => stolenPhases(run).map(({ phase, steal }) => `run ${index + 1} ${PHASE_TITLES[phase]} ${steal.toFixed(1)} %`));
  const most = Math.max(0, ...runs.flatMap((run) => Object.values(run.componentCpu ?? {}).map((cpu) => cpu?.steal ?? 0)));
  return stolen.length === 0
    ? `steal: at most ${most.toFixed(1)} % of a core in any phase of any run (limit ${STEAL_LIMIT} %)`
    : `steal above ${STEAL_LIMIT} % of a core (other guests on these cores; those phases are not comparable with the rest, and the last column leaves them out): ${stolen.join(', ')}`;
}

const PHASE_TITLES: Record<LoadPhase, string> = {
  batch: 'batches', lp: 'line p.', mqtt: 'MQTT', fleet: 'fleet', single: 'single', neighbours: 'neighb.', labels: 'labels', reads: 'reads', groups: 'groups',
};

/**
 * Who took the cores in each phase: a component per row, a phase per column, % of a core, the median
 * over runs (a component a run did not see counts 0 there). `machine` first; the rows below it need
 * not add up to it (the kernel, other processes, and a backend that ended between two samples).
 */
export function formatComponentCpu(runs: RunResult[]): string | undefined {
  const phases = (Object.keys(PHASE_TITLES) as LoadPhase[]).filter((phase) => runs.some((run) => run.componentCpu?.[phase]));
  if (phases.length === 0) return undefined;
  const components = new Set<string>();
  for (const run of runs) for (const phase of phases) for (const name of Object.keys(run.componentCpu?.[phase] ?? {})) components.add(name);
  const cell = (name: string, phase: LoadPhase): number => median(runs.map((run) => run.componentCpu?.[phase]?.[name] ?? 0));
  // Largest first over all phases; a component under 1 % of a core everywhere is left out.
  const rows = [...components]
    .map((name) => ({ name, cells: phases.map((phase) => cell(name, phase)) }))
    .filter((row) => row.cells.some((value) => value >= 1))
    .sort((a, b) => (a.name === 'machine' ? -1 : b.name === 'machine' ? 1 : b.cells.reduce((s, v) => s + v, 0) - a.cells.reduce((s, v) => s + v, 0)));
  const lines = [`${'CPU, % of a core (median of runs)'.padEnd(36)}${phases.map((phase) => PHASE_TITLES[phase].padStart(9)).join('')}`, '-'.repeat(36 + 9 * phases.length)];
  for (const row of rows) lines.push(`${row.name.padEnd(36)}${row.cells.map((value) => value.toFixed(0).padStart(9)).join('')}`);
  return lines.join('\n');
}
