import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { loadConfigOrExit } from '@strata/core';
import { formatTable, summarize } from './bench-report.ts';
import { loadSeriesDevice } from './load-series-device.ts';
import { runOnce, type BenchPlan, type RunResult } from './run-once.ts';
import { startBenchStack } from './start-bench-stack.ts';

// `pnpm bench [--quick] [--runs N] [--profile DIR]`: the composition root of the benchmark.
const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false }, runs: { type: 'string', default: '1' }, profile: { type: 'string' } } });
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1 || runs > 9) {
  process.stderr.write('bench: --runs takes 1..9\n');
  process.exit(2);
}
const plan: BenchPlan = values.quick
  ? { sustainedS: 10, singleS: 5, freshnessS: 5, readsS: 3, rawEvents: 50_000, seriesEvents: 100_000 }
  : { sustainedS: 30, singleS: 10, freshnessS: 10, readsS: 10, rawEvents: 200_000, seriesEvents: 1_000_000 };
const config = loadConfigOrExit(process.env);
const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);

const env = Object.fromEntries(Object.entries(process.env).filter((entry): entry is [string, string] => entry[1] !== undefined));
log('starting a fresh strata_bench database and the four services');
const stack = await startBenchStack(config, env, values.profile);
const results: RunResult[] = [];
try {
  log(`loading ${plan.seriesEvents.toLocaleString('en-US')} events for the series device`);
  await loadSeriesDevice(stack, plan.seriesEvents);
  for (let run = 1; run <= runs; run++) results.push(await runOnce(stack, plan, run, log));
} finally {
  await stack.stop();
}

const rows = summarize(results);
const machine = { cores: cpus().length, cpu: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version };
process.stdout.write(`\nStrata benchmark (${values.quick ? 'quick' : 'full'}, ${runs} run${runs > 1 ? 's' : ''}, ${machine.cores} cores, ${machine.cpu})\n\n`);
process.stdout.write(`${formatTable(rows, runs)}\n`);
const stamp = new Date().toISOString().replaceAll(':', '').slice(0, 15);
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
const file = new URL(`./results/${stamp}${values.quick ? '-quick' : ''}.json`, import.meta.url);
writeFileSync(file, `${JSON.stringify({ date: new Date().toISOString(), quick: values.quick, plan, machine, summary: rows, runs: results }, null, 2)}\n`);
process.stdout.write(`\nwritten ${file.pathname}\n`);
