import t from 'tap';
import { readFileSync } from 'node:fs';
import { describeSteal, formatTable, STEAL_LIMIT, stolenPhases, summarize } from '../../bench/bench-report.ts';
import { median } from '../../bench/percentiles.ts';
import type { RunResult } from '../../bench/run-once.ts';

/*
 * The report's medians beside the medians of the runs the hypervisor left alone (decision 0118), on
 * the three runs that showed the need: `pnpm bench --runs 3 --only lp,mqtt,fleet,single` at 4ee27f2,
 * 2026-12-03 15:06–15:21. Single events ran at 4,949 req/s with 0.9 % of a core stolen, and at 3,231
 * and 3,125 with 12.3 and 33.9 %; the third run's fleet lost 6.0 %.
 */
const file = new URL('../../bench/results/2026-12-03T152115-only-batch-lp-mqtt-fleet-single-runs3-4ee27f2.json', import.meta.url);
const runs = (JSON.parse(readFileSync(file, 'utf8')) as { runs: RunResult[] }).runs;

t.test('the phases above the limit are found, run by run', async (t) => {
  t.equal(STEAL_LIMIT, 5);
  t.same(stolenPhases(runs[0] as RunResult), [], 'the first run: no phase above 5 % of a core');
  t.same(stolenPhases(runs[1] as RunResult).map((p) => p.phase), ['single']);
  t.same(stolenPhases(runs[2] as RunResult).map((p) => p.phase), ['fleet', 'single']);
  const line = describeSteal(runs) ?? '';
  t.match(line, /run 2 single 12\.3 %/);
  t.match(line, /run 3 fleet 6\.0 %/);
  t.match(line, /run 3 single 33\.9 %/);
  t.notMatch(line, /run 1/, 'a run without steal is not named');
});

t.test('each row keeps the median of all runs and adds the median of the calm ones', async (t) => {
  const rows = summarize(runs);
  const row = (metric: string) => {
    const found = rows.find((r) => r.metric === metric);
    if (!found) throw new Error(`no row ${metric}`);
    return found;
  };
  const single = row('single events, 64 connections');
  t.equal(Math.round(single.value), 3231, 'the median of the three runs, as before');
  t.same(single.lowSteal && { runs: single.lowSteal.runs, value: Math.round(single.lowSteal.value ?? 0) }, { runs: 1, value: 4949 }, 'the one calm run');
  t.equal(row('single events p99').lowSteal?.runs, 1, 'every row of the phase, latencies too');

  const fleet = row('fleet: achieved');
  t.equal(fleet.lowSteal?.runs, 2, 'the fleet: the two runs that kept their cores');
  t.equal(fleet.lowSteal?.value, median([runs[0]?.fleet?.achievedPerSec as number, runs[1]?.fleet?.achievedPerSec as number]));

  t.equal(row('batches of 500, end to end (in history)').lowSteal, undefined, 'a phase no run lost cores in has no second median');
  t.equal(row('line protocol end to end / HTTP batches').lowSteal, undefined);
  t.equal(row('MQTT: refused or unanswered').lowSteal, undefined, 'counts summed over runs are left whole');

  const table = formatTable(rows, runs.length);
  t.match(table, /median, runs with steal <= 5 %/, 'the table names the column');
  t.match(table, /single events, 64 connections\s+3,231 req\/s\s+>= 12,000\s+MISSED\s+4,949 req\/s \(1 of 3 runs\)/);
});

t.test('without steal the table is as it was', async (t) => {
  const calm = runs.slice(0, 1);
  const rows = summarize(calm);
  t.ok(rows.every((r) => r.lowSteal === undefined));
  t.notMatch(formatTable(rows, 1), /steal/);
  t.match(describeSteal(calm) ?? '', /^steal: at most 0\.9 % of a core in any phase of any run \(limit 5 %\)$/);
});

t.test('a phase every run lost cores in has no calm median, and says so', async (t) => {
  const stolen = runs.slice(1);
  const single = summarize(stolen).find((r) => r.metric === 'single events, 64 connections');
  t.same(single?.lowSteal, { runs: 0 });
  t.match(formatTable(summarize(stolen), 2), /single events, 64 connections\s+\S+ req\/s\s+>= 12,000\s+MISSED\s+- \(0 of 2 runs\)/);
});
