import t from 'tap';
import { readFileSync } from 'node:fs';
import { batchCeiling, formatTable, summarize, type Row } from '../../bench/bench-report.ts';
import type { RunResult } from '../../bench/run-once.ts';

/*
 * The batches' ratio against the mean of a ceiling measured before and one after the phase (decision
 * 0119), on real result files: `pnpm bench --runs 1 --only ceiling,batch`, once with the second ceiling
 * (2026-12-03 18:50) and once before it existed (18:32, 1a7fc9d).
 */
const runsOf = (name: string) => (JSON.parse(readFileSync(new URL(`../../bench/results/${name}`, import.meta.url), 'utf8')) as { runs: RunResult[] }).runs;
const bracketed = runsOf('2026-12-03T185036-only-ceiling-batch-bracketed.json');
const older = runsOf('2026-12-03T183225-only-ceiling-batch-1a7fc9d.json');

function rowOf(rows: Row[], metric: string): Row | undefined {
  return rows.find((row) => row.metric === metric);
}

t.test('a bracketed run: the ratio divides by the mean of the two ceilings, and both are shown', async (t) => {
  const run = bracketed[0] as RunResult;
  const before = run.ceiling?.rowsPerSec as number;
  const after = run.ceilingAfterBatch?.rowsPerSec as number;
  const e2e = run.batch?.endToEndEventsPerSec as number;
  t.ok(before > 0 && after > 0 && e2e > 0, 'the file holds both ceilings and the phase');
  t.equal(batchCeiling(run), (before + after) / 2);

  const rows = summarize(bracketed);
  t.equal(rowOf(rows, 'batches end to end / SQL ceiling (mean of both)')?.value, e2e / ((before + after) / 2));
  t.same(rowOf(rows, 'batches end to end / SQL ceiling (mean of both)')?.target, { op: '>=', value: 0.4 }, 'the target stays on the ratio');
  t.equal(rowOf(rows, 'batches end to end / SQL ceiling before them')?.value, e2e / before, 'the ratio against the first ceiling alone');
  t.equal(rowOf(rows, 'SQL ceiling again, after the batches')?.value, after);
  t.equal(rowOf(rows, 'SQL ceiling after the batches / before')?.value, after / before);
  t.equal(rowOf(rows, 'SQL ceiling after the batches / before')?.target, undefined, 'a reading, not a target');

  const table = formatTable(rows, 1);
  t.match(table, /SQL ceiling \(plain SQL, same server, same run\)\s+69,507 rows\/s/);
  t.match(table, /SQL ceiling again, after the batches\s+68,468 rows\/s/);
  t.match(table, /batches end to end \/ SQL ceiling \(mean of both\)\s+0\.33 ×\s+>= 0\.4\s+MISSED/);
});

t.test('when the machine moves, the mean sits between the two ratios it would otherwise give', async (t) => {
  const run = bracketed[0] as RunResult;
  // The same run, had the second ceiling come out half the first (a slow minute after the phase).
  const slowAfter: RunResult = { ...run, ceilingAfterBatch: { ...(run.ceilingAfterBatch as NonNullable<RunResult['ceilingAfterBatch']>), rowsPerSec: (run.ceiling?.rowsPerSec as number) / 2 } };
  const rows = summarize([slowAfter]);
  const mean = rowOf(rows, 'batches end to end / SQL ceiling (mean of both)')?.value as number;
  const againstBefore = rowOf(rows, 'batches end to end / SQL ceiling before them')?.value as number;
  const againstAfter = (run.batch?.endToEndEventsPerSec as number) / (slowAfter.ceilingAfterBatch?.rowsPerSec as number);
  t.ok(againstBefore < mean && mean < againstAfter, `${againstBefore} < ${mean} < ${againstAfter}`);
  t.equal(rowOf(rows, 'SQL ceiling after the batches / before')?.value, 0.5, 'the move is reported');
});

t.test('an older result without the second ceiling reads as before', async (t) => {
  const run = older[0] as RunResult;
  t.equal(run.ceilingAfterBatch, undefined);
  t.equal(batchCeiling(run), run.ceiling?.rowsPerSec, 'the ceiling before the phase');
  const rows = summarize(older);
  t.equal(rowOf(rows, 'batches end to end / SQL ceiling (mean of both)')?.value, (run.batch?.endToEndEventsPerSec as number) / (run.ceiling?.rowsPerSec as number));
  t.equal(rowOf(rows, 'SQL ceiling again, after the batches'), undefined, 'rows that need the second ceiling are left out');
  t.equal(rowOf(rows, 'SQL ceiling after the batches / before'), undefined);
  t.equal(rowOf(rows, 'batches end to end / SQL ceiling before them'), undefined);
});
