// `pnpm test:faults [--quick] [--only <scenario>]`: the fault-injection suite. Starts its own
// PostgreSQL and Redis and the Strata services as OS processes, kills them under load, and checks
// the stores against what the writers saw acknowledged. Exit code 1 when any scenario fails.
import { FaultWorld } from './fault-world.ts';
import { scenarios } from './scenarios.ts';
import { verifyAgainstOracle } from './verify-against-oracle.ts';
import { makeEvents } from './workload.ts';
import { WriteLog, runWriters, type WriterOptions } from './writers.ts';

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const only = argv.includes('--only') ? argv[argv.indexOf('--only') + 1] : undefined;
// 'puback': an MQTT message acknowledged (the MQTT scenario's 202).
const CLEAN_STATUSES = new Set(['202', '503', '429', 'connection-error', 'puback']);

const world = await FaultWorld.start();
let passed = 0;
let failed = 0;
try {
  for (const [index, scenario] of scenarios.entries()) {
    if (only && scenario.name !== only) continue;
    const size = quick ? 'quick' : 'full';
    const total = scenario.events[size];
    const { tenant, apiKey } = await world.createTenant(scenario.name);
    const events = makeEvents(total, scenario.devices[size], index + 1);
    const log = new WriteLog();
    const writerOptions: WriterOptions = {
      url: () => world.url('command-api'), apiKey, events, writers: scenario.writers,
      batch: scenario.batch, delayMs: scenario.delayMs, giveUpAfterMs: 90_000, seed: index + 1,
    };
    const ctx = { world, log, total, writerOptions, notes: [] as string[], failures: [] as string[] };
    const started = Date.now();
    await Promise.all([runWriters(writerOptions, log), scenario.inject?.(ctx)]);
    const ingestMs = Date.now() - started;
    const tally = await verifyAgainstOracle(world, tenant, log, 120_000);
    await scenario.after?.(ctx, tally, tenant);
    const problems = [...ctx.failures];
    for (const key of ['lost', 'duplicated', 'rollupMismatches', 'stateMismatches', 'stranded', 'unacknowledgedStored'] as const) {
      if (tally[key] !== 0) problems.push(`${key} = ${tally[key]}`);
    }
    if (log.givenUp > 0) problems.push(`writers gave up on ${log.givenUp} events`);
    // Probe events some scenarios send come on top of the workload.
    if (tally.accepted < total) problems.push(`only ${tally.accepted} of ${total} events acknowledged`);
    const unclean = [...log.statuses.keys()].filter((status) => !CLEAN_STATUSES.has(status));
    if (unclean.length > 0) problems.push(`unclean answers: ${unclean.join(', ')}`);
    const ok = problems.length === 0;
    if (ok) passed++;
    else failed++;
    const statuses = [...log.statuses].map(([status, count]) => `${status}×${count}`).join(' ');
    console.log(
      `${ok ? 'PASS' : 'FAIL'} ${scenario.name}: accepted ${tally.accepted} / stored ${tally.stored} / duplicated ${tally.duplicated} / lost ${tally.lost}` +
        ` | rollup mismatches ${tally.rollupMismatches}, state mismatches ${tally.stateMismatches}, stranded ${tally.stranded}` +
        ` | ingest ${(ingestMs / 1000).toFixed(1)} s, drain ${(tally.drainMs / 1000).toFixed(1)} s | answers ${statuses}` +
        (ctx.notes.length ? ` | ${ctx.notes.join('; ')}` : '') +
        (ok ? '' : `\n     problems: ${problems.join('; ')}`),
    );
  }
} finally {
  await world.stop();
}
console.log(`\nfaults (${quick ? 'quick' : 'full'}): ${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
