import t from 'tap';
import { createPool } from '@strata/core';
import { createTenant, createTestEnvironment } from '@strata/testkit';
import { checkLabelWrites, type LabelWrites } from '../../bench/measure-label-writes.ts';

/*
 * The label-write phase's honesty check (bench/measure-label-writes.ts): the devices of a run whose
 * current labels are exactly what their PUT set must number the PUTs acknowledged, and a device left
 * with any other current labels fails it. Label versions are written here as SQL, as the fold leaves
 * them (the check reads only current versions: valid_to = 'infinity').
 */
const writes = (ok: number): LabelWrites => ({
  load: { offered: ok, missed: 0, ok, non2xx: 0, errors: 0, durationS: 1, p50Ms: 1, p99Ms: 1, requestsPerSec: ok, acceptedEvents: 0 },
  refused: 0,
  background: { eventsPerSec: 0, acknowledged: 0 },
  window: { fromMs: 0, toMs: 0 },
});

t.test('counts exactly-labelled devices of the run against the PUTs acknowledged', async (t) => {
  const env = await createTestEnvironment(t);
  const pool = createPool({ connectionString: env.config.databaseUrl, max: 2, applicationName: 'bench-check' }, env.logger);
  t.teardown(() => pool.end());
  const { tenant } = await createTenant(pool, 'labels-check');
  const label = async (device: string, labels: Record<string, string | null>, validTo = 'infinity') => {
    for (const [name, value] of Object.entries(labels)) {
      await pool.query(
        `INSERT INTO label_versions (tenant_id, device, label, valid_from, valid_to, value, last_sample, origin)
         VALUES ($1, $2, $3, now() - interval '1 hour', $4::timestamptz, $5, now() - interval '1 hour', 'a')`,
        [tenant, device, name, validTo, value],
      );
    }
  };
  for (const i of [0, 1, 2]) await label(`lw1-${i}`, { 'bench-labels': 'run-1', seq: String(i) });
  // Not the run's: another run, a longer prefix, and a version that ended.
  await label('lw2-0', { 'bench-labels': 'run-2', seq: '0' });
  await label('lw10-7', { 'bench-labels': 'run-10', seq: '7' });
  await label('lw1-9', { 'bench-labels': 'run-1', seq: '9' }, new Date(Date.now() - 60_000).toISOString());

  const exact = await checkLabelWrites(pool, tenant, 1, writes(3));
  t.same({ ok: exact.ok, acknowledged: exact.acknowledged, stored: exact.stored }, { ok: true, acknowledged: 3, stored: 3 });

  const stderr = process.stderr.write;
  const failures: string[] = [];
  process.stderr.write = ((line: string) => failures.push(line) > 0) as typeof process.stderr.write;
  t.teardown(() => {
    process.stderr.write = stderr;
  });
  const lost = await checkLabelWrites(pool, tenant, 1, writes(4));
  t.equal(lost.ok, false, 'an acknowledged PUT whose labels are not stored fails the check');

  // A refused PUT that left half its labels behind, and a device whose seq is another device's.
  await label('lw1-5', { 'bench-labels': 'run-1' });
  await label('lw1-6', { 'bench-labels': 'run-1', seq: '3' });
  const partial = await checkLabelWrites(pool, tenant, 1, writes(3));
  t.same({ ok: partial.ok, stored: partial.stored }, { ok: false, stored: 5 }, 'labels other than the PUT set fail it');
  // A removed label (NULL value) does not count as a current label.
  await label('lw1-8', { 'bench-labels': null });
  t.equal((await checkLabelWrites(pool, tenant, 1, writes(3))).stored, 5);
  process.stderr.write = stderr;
  t.equal(failures.length, 3, 'each failure printed a FAIL line');
  t.match(failures[0], /^FAIL run 1: label writes beside ingest: 4 PUTs acknowledged, 3 devices/);
});
