import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { loadConfig, loadConfigOrExit } from '@strata/core';
import { describeSteal, formatComponentCpu, formatTable, summarize } from './bench-report.ts';
import { selectPhases, type BenchPhase } from './bench-phases.ts';
import { describeCheck } from './check-stored-events.ts';
import { describePostgres } from './describe-postgres.ts';
import { loadGroupHistory } from './load-group-history.ts';
import { loadSeriesDevice } from './load-series-device.ts';
import { median } from './percentiles.ts';
import { runOnce, type BenchPlan, type RunResult } from './run-once.ts';
import { startBenchPostgres } from './start-bench-postgres.ts';
import { startBenchStack } from './start-bench-stack.ts';
import { describeLeft, waitUntilAggregated, type Aggregated } from './wait-until-aggregated.ts';

// `pnpm bench [--quick] [--runs N] [--embedded] [--profile DIR] [--logs DIR] [--only PHASE,…] [--byte-rate N] [--ingest-limits]`: the composition root of the benchmark.
const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    runs: { type: 'string', default: '1' },
    embedded: { type: 'boolean', default: false },
    profile: { type: 'string' },
    logs: { type: 'string' },
    only: { type: 'string' },
    // INGEST_RATE_LIMIT_BYTES_PER_SECOND for the services (off by default, like every tenant limit in
    // the bench): to measure what the byte rate does for a quiet tenant beside a busy one.
    'byte-rate': { type: 'string' },
    // Both ingest rate limits at their defaults, as `pnpm start` runs (decision 0126): what a request
    // costs with the limits users run with. A phase past 20,000 events/s gets 429s, so this is for
    // --only single, fleet, neighbours.
    'ingest-limits': { type: 'boolean', default: false },
  },
});
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1 || runs > 9) {
  process.stderr.write('bench: --runs takes 1..9\n');
  process.exit(2);
}
const byteRate = values['byte-rate'] === undefined ? undefined : Number(values['byte-rate']);
if (byteRate !== undefined && (!Number.isSafeInteger(byteRate) || byteRate < 0)) {
  process.stderr.write('bench: --byte-rate takes bytes per second (a non-negative integer)\n');
  process.exit(2);
}
// The limits the services run with when the bench does not turn them off: their defaults, from the
// same loader the services use, and --byte-rate over the byte one.
const defaults = loadConfig({});
const ingestLimits = values['ingest-limits']
  ? { eventsPerSecond: defaults.ingestRateLimitEventsPerSecond, bytesPerSecond: byteRate ?? defaults.ingestRateLimitBytesPerSecond }
  : undefined;
let phases: BenchPhase[];
try {
  phases = selectPhases(values.only);
} catch (error) {
  process.stderr.write(`bench: ${(error as Error).message}\n`);
  process.exit(2);
}
const plan: BenchPlan = values.quick
  ? { phases, batchS: 10, lpS: 10, mqttS: 10, fleetS: 15, singleS: 5, neighboursS: 5, freshnessS: 5, labelsS: 20, readsS: 3, groupsS: 3, ceilingRows: 200_000, seriesEvents: 100_000, groupEveryMinutes: 5 }
  : { phases, batchS: 30, lpS: 30, mqttS: 30, fleetS: 60, singleS: 10, neighboursS: 15, freshnessS: 10, labelsS: 80, readsS: 10, groupsS: 10, ceilingRows: 200_000, seriesEvents: 1_000_000, groupEveryMinutes: 5 };
// With a byte rate the busy neighbour is refused: measure also one that honours retry-after.
plan.politeBusy = Boolean(ingestLimits ?? byteRate);
// Only the reads read the series device: a run without them does not load it.
const withSeries = phases.includes('reads');
// Only the group reads read the group history (the same size with --quick: the group's size is the point).
const withGroups = phases.includes('groups');
const partial = values.only !== undefined;
const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);
// Taken before the services start: that is the code they run, even if HEAD moves meanwhile.
const commit = gitCommit();
const env = Object.fromEntries(Object.entries(process.env).filter((entry): entry is [string, string] => entry[1] !== undefined));

// --embedded measures a private server started as `pnpm start` starts one (its workload settings);
// otherwise the server at DATABASE_URL, whatever its settings: the report says which.
const embedded = values.embedded ? await startBenchPostgres() : undefined;
if (embedded) {
  log(`started a private PostgreSQL with the workload settings (${embedded.databaseUrl})`);
  env.DATABASE_URL = embedded.databaseUrl;
}
const config = loadConfigOrExit(env);
log('starting a fresh strata_bench database and the four services');
const stack = await startBenchStack(config, { profileDir: values.profile, logDir: values.logs, byteRate, ingestLimits });
const results: RunResult[] = [];
let postgres;
let seriesCheck;
let seriesAggregated: Aggregated | undefined;
let groupCheck;
let groupAggregated: Aggregated | undefined;
try {
  postgres = await describePostgres(stack.db, totalmem());
  if (partial) log(`phases: ${phases.join(', ')} (--only)`);
  if (withSeries) {
    log(`loading ${plan.seriesEvents.toLocaleString('en-US')} events for the series device`);
    const loadStarted = performance.now();
    seriesCheck = await loadSeriesDevice(stack, plan.seriesEvents);
    log(`  in history after ${Math.round((performance.now() - loadStarted) / 1000)} s; waiting for the aggregates`);
    seriesAggregated = await waitUntilAggregated(stack.db, 900_000, log);
    log(`  aggregates ${seriesAggregated.caughtUp ? 'caught up' : `NOT caught up (${describeLeft(seriesAggregated)})`} after ${Math.round(seriesAggregated.waitedMs / 1000)} s`);
  }
  if (withGroups) {
    log(`loading the group history: 1,000 devices labelled fleet=bench, a reading every ${plan.groupEveryMinutes} min over 25 h`);
    const loadStarted = performance.now();
    groupCheck = await loadGroupHistory(stack, plan.groupEveryMinutes);
    log(`  in history after ${Math.round((performance.now() - loadStarted) / 1000)} s; waiting for the aggregates (tenant and group notes)`);
    groupAggregated = await waitUntilAggregated(stack.db, 900_000, log);
    log(`  aggregates ${groupAggregated.caughtUp ? 'caught up' : `NOT caught up (${describeLeft(groupAggregated)})`} after ${Math.round(groupAggregated.waitedMs / 1000)} s`);
  }
  for (let run = 1; run <= runs; run++) results.push(await runOnce(stack, plan, run, log));
} finally {
  await stack.stop();
  await embedded?.stop();
}

const rows = summarize(results);
const machine = { cores: cpus().length, cpu: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version };
const out = (text: string) => process.stdout.write(`${text}\n`);
out(`\nStrata benchmark (${values.quick ? 'quick' : 'full'}, ${runs} run${runs > 1 ? 's' : ''}, ${machine.cores} cores, ${machine.cpu}, ${machine.memoryGiB} GiB), commit ${commit}`);
if (partial) out(`phases: ${phases.join(', ')} (--only)`);
if (ingestLimits) out(`ingest rate limits per tenant: ${ingestLimits.eventsPerSecond} events/s, ${ingestLimits.bytesPerSecond} bytes/s (--ingest-limits; read and auth limits off)`);
else if (byteRate !== undefined) out(`byte rate per tenant: ${byteRate} bytes/s (--byte-rate; every other tenant limit off)`);
out(`PostgreSQL ${postgres.version}${embedded ? ' (private, --embedded)' : ` at ${new URL(config.databaseUrl).host}`}: ${Object.entries(postgres.settings).map(([k, v]) => `${k}=${v}`).join(' ')}`);
out(postgres.differsFromRecommended.length === 0 ? 'settings: as recommended (docs/operations.md)' : `settings differing from docs/operations.md: ${postgres.differsFromRecommended.join(', ')}`);
out('');
out(formatTable(rows, runs));
const steal = describeSteal(results);
if (steal) out(steal);
const componentCpu = formatComponentCpu(results);
if (componentCpu) out(`\n${componentCpu}`);
const last = results.at(-1) as RunResult;
if (last.bytes) {
  out(`\nbytes per event by table (last run): ${Object.entries(last.bytes.byTable).map(([k, v]) => `${k} ${v}`).join(', ')}; staging grew ${last.bytes.staging.toFixed(1)} B/event (transient)`);
}
for (const [name, backlog] of [['batches', last.batch?.backlog], ['line protocol', last.lp?.backlog], ['MQTT', last.mqtt?.backlog], ['fleet', last.fleet?.backlog]] as const) {
  if (!backlog) continue;
  const series = backlog.samples.map((s) => `${s.t}s:${s.stagedEvents}`);
  const maxJobs = Math.max(0, ...backlog.samples.map((s) => s.queuedJobs));
  out(`projector backlog, ${name} (last run): staged events at each sample ${series.join(' ')}; max ${backlog.maxStagedEvents} events / ${maxJobs} queued jobs, slope ${Math.round(backlog.slopeEventsPerSec)} events/s`);
}
if (seriesAggregated) {
  out(`series device (${plan.seriesEvents.toLocaleString('en-US')} events over 30 days): aggregates ${seriesAggregated.caughtUp ? 'caught up' : `NOT caught up (${describeLeft(seriesAggregated)})`} ${Math.round(seriesAggregated.waitedMs / 1000)} s after it was in history`);
}
if (groupAggregated && groupCheck) {
  out(`group history (${groupCheck.acknowledged.toLocaleString('en-US')} events, 1,000 devices over 25 h): aggregates ${groupAggregated.caughtUp ? 'caught up' : `NOT caught up (${describeLeft(groupAggregated)})`} ${Math.round(groupAggregated.waitedMs / 1000)} s after it was in history`);
}
if (last.mqtt?.firstError) out(`MQTT (last run): first error: ${last.mqtt.firstError}`);
const checks = [...(seriesCheck ? [seriesCheck] : []), ...(groupCheck ? [groupCheck] : []), ...results.flatMap((r) => r.checks)];
const failed = checks.filter((c) => !c.ok);
for (const c of failed) out(`FAIL ${describeCheck(c)}`);
// Group answers that differ from SQL over history fail the command as a lost event does.
const inexact = results.flatMap((r, i) => (r.groupExactness && !r.groupExactness.ok ? [{ run: i + 1, exactness: r.groupExactness }] : []));
for (const { run, exactness } of inexact) {
  for (const line of exactness.mismatches.length > 0 ? exactness.mismatches : ['nothing compared']) out(`FAIL run ${run}: group reads differ from SQL: ${line}`);
}
const exactRuns = results.filter((r) => r.groupExactness).length;
if (exactRuns > 0) out(`group reads = SQL over history: ${exactRuns - inexact.length} of ${exactRuns} runs (${results.reduce((n, r) => n + (r.groupExactness?.compared ?? 0), 0)} answers compared)`);
const ceilings = results.flatMap((r) => (r.ceiling ? [r.ceiling] : []));
const ceilingNote = ceilings.length > 0 ? ` (median ceiling move ${Math.round(median(ceilings.map((c) => c.moveMs)))} ms, copy ${Math.round(median(ceilings.map((c) => c.copyMs)))} ms)` : '';
out(`stored = acknowledged: ${checks.length - failed.length} of ${checks.length} checks${ceilingNote}`);

// To the second: two runs in one minute (alternated A/B runs) overwrote each other's file.
const stamp = new Date().toISOString().replaceAll(':', '').slice(0, 17);
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
const file = new URL(`./results/${stamp}${values.quick ? '-quick' : ''}${embedded ? '-embedded' : ''}${partial ? `-only-${phases.join('-')}` : ''}${byteRate === undefined ? '' : `-byte-rate-${byteRate}`}${ingestLimits ? '-ingest-limits' : ''}.json`, import.meta.url);
const report = { date: new Date().toISOString(), commit, quick: values.quick, embedded: Boolean(embedded), byteRate, ingestLimits, plan, machine, postgres, seriesAggregated, groupAggregated, summary: rows, checks, runs: results };
writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
out(`\nwritten ${file.pathname}`);
if (failed.length > 0 || inexact.length > 0) process.exitCode = 1;

function gitCommit(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8' }).trim() !== '';
    return dirty ? `${head} + uncommitted changes` : head;
  } catch {
    return 'unknown';
  }
}
