/*
 * Events per second of the projection statement alone (no queue, no HTTP): N batches of 500 events
 * over 10k devices through projectBatch, one connection, against a fresh database. Used to compare
 * the hot path before and after a change to it (decision 0060):
 *
 *   pnpm exec node packages/projector/test/measure-projection.ts [--batches 200]
 *
 * It then times the aggregate refresher over what was projected.
 * To time an older statement on its own schema, run a copy of this file inside a tree taken with
 * `git archive <commit>` (with the workspace's node_modules copied in). Not a test: it asserts
 * nothing and is not run by tap.
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { createLogger, type BatchEvent } from '@strata/core';
import { runMigrations } from '@strata/testkit';
import { projectBatch } from '../src/queries/project-batch.ts';
import { refreshAggregates } from '../src/aggregation/refresh-aggregates.ts';

const { values: args } = parseArgs({
  options: {
    batches: { type: 'string', default: '200' },
  },
});
const batches = Number(args.batches);

const name = `strata_measure_${process.pid}`;
const admin = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
await admin.connect();
await admin.query(`CREATE DATABASE ${name}`);
const url = `postgres://postgres@127.0.0.1:5432/${name}`;
try {
  await runMigrations(url, createLogger('measure', 'silent'));
  const db = new pg.Pool({ connectionString: url, max: 1 });
  const tenant = randomUUID();
  await db.query(`INSERT INTO tenants (id, name) VALUES ($1, 'measure')`, [tenant]).catch(() => {});
  const base = Date.now() - 3_600_000;
  let sequence = 0;
  const batch = (): BatchEvent[] =>
    Array.from({ length: 500 }, () => {
      const i = sequence++;
      // Each of 10k devices reports about once a second, three numbers per event.
      return { tenantId: tenant, device: `dev-${i % 10_000}`, key: `i:${i}`, ts: base + i / 10, type: 'reading', values: { temp: (i % 400) / 10, hum: i % 97, volt: 3.3 } } as BatchEvent;
    });
  for (let i = 0; i < 20; i++) await projectBatch(db, randomUUID(), batch()); // warm-up: plans, caches
  const started = process.hrtime.bigint();
  for (let i = 0; i < batches; i++) await projectBatch(db, randomUUID(), batch());
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  console.log(`${batches} batches of 500 over 10k devices: ${(batches * 500 / seconds).toFixed(0)} events/s (${(seconds * 1000 / batches).toFixed(1)} ms a batch)`);
  // Then the refresher's share: every noted minute recomputed (with its hour, day and counts).
  const refreshStarted = process.hrtime.bigint();
  let minutes = 0;
  for (let round = 1; round > 0; minutes += round) round = (await refreshAggregates(db, { now: Date.now() + 120_000 })).minutes;
  const refreshSeconds = Number(process.hrtime.bigint() - refreshStarted) / 1e9;
  console.log(`refresh of ${minutes} minutes (${batches * 500 + 10_000} events): ${(refreshSeconds * 1000).toFixed(0)} ms, ${((batches * 500 + 10_000) / refreshSeconds).toFixed(0)} events/s`);
  await db.end();
} finally {
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.end();
}
