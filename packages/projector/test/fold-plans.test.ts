import t, { type Test } from 'tap';
import { createPool, createLogger, lockTenantLabelVersions } from '@strata/core';
import { createTenant, createTestEnvironment, insertIntoHistory, nestedPlans, planNodes, quadraticNodes, type PlanNode } from '@strata/testkit';
import { foldClaimedLabelSamples, type FoldOutcome } from '../src/queries/fold-claimed-label-samples.ts';

/*
 * The label fold's statements inside fold_label_samples and collapse_label_samples (migrations 0021,
 * 0028), planned on a label_versions counted empty while it holds pages: as ops' churned-table vacuum
 * counts it while a refresher transaction holds versions it has not committed. The bench's
 * line-protocol minute (10,000 devices' first sight) then took 23.6 s to fold instead of 4 (decision
 * 0111): collapse's last_sample update read the runs again for each of the tenant's versions, and each
 * first sight's look-ups scanned every version folded before it. Here every statement the fold runs,
 * nested ones included, may read label_versions only about as often as it has keys.
 */
const ROWS = 5; // history rows per device in the claimed minute

interface Fixture {
  /** Devices whose tag is in force and unchanged: their runs only move last_sample. */
  known: number;
  /** Devices seen for the first time: each folded by fold_label_sample. */
  fresh: number;
  /** How label_versions was last counted before the fold. */
  counted: 'empty in its pages' | 'empty, with no pages';
}

async function foldPlans(t: Test, fixture: Fixture): Promise<void> {
  const { config } = await createTestEnvironment(t);
  const pool = createPool({ connectionString: config.databaseUrl, max: 2, applicationName: 'test' }, createLogger('test', 'silent'));
  t.teardown(() => pool.end());
  const { tenant } = await createTenant(pool, 'fold plans');
  await pool.query('ALTER TABLE label_versions SET (autovacuum_enabled = false)');
  if (fixture.counted === 'empty in its pages') {
    // As the vacuum counts it beside an uncommitted fold: no row in the pages 20,000 filled.
    const { tenant: other } = await createTenant(pool, 'burst');
    await pool.query(
      `INSERT INTO label_versions (tenant_id, device, label, value, valid_from, valid_to, last_sample, origin)
       SELECT $1, 'b' || i, 'site', 'x', now() - interval '1 day', 'infinity', now() - interval '1 day', 'a' FROM generate_series(1, 20000) i`,
      [other],
    );
    await pool.query('DELETE FROM label_versions WHERE tenant_id = $1', [other]);
    await pool.query('VACUUM (TRUNCATE false) label_versions');
  } else {
    // As the vacuum counts a new install's table before its first fold.
    await pool.query('VACUUM label_versions');
  }
  const counted = await pool.query<{ reltuples: number; relpages: number }>(`SELECT reltuples, relpages FROM pg_class WHERE relname = 'label_versions'`);
  t.equal(counted.rows[0]?.reltuples, 0, 'the premise: label_versions counted with no row');
  t.equal((counted.rows[0]?.relpages ?? 0) > 0, fixture.counted === 'empty in its pages', `the premise: ${fixture.counted}`);

  const minute = Math.floor(Date.now() / 60_000) * 60_000 - 10 * 60_000;
  await pool.query(
    `INSERT INTO label_versions (tenant_id, device, label, value, valid_from, valid_to, last_sample, origin)
     SELECT $1, 'k' || i, 'site', 's' || (i % 10), $2::timestamptz - interval '1 day', 'infinity', $2::timestamptz - interval '1 day', 'a'
       FROM generate_series(1, $3) i`,
    [tenant, new Date(minute).toISOString(), fixture.known],
  );
  await pool.query(
    insertIntoHistory(`SELECT $1::uuid AS tenant_id, d.device, $2::timestamptz + r * interval '10 seconds' AS ts, d.device || '-' || r AS event_key,
                              'reading' AS type, '{"v": 1}'::jsonb AS "values", jsonb_build_object('site', d.site) AS labels
                         FROM (SELECT 'k' || i AS device, 's' || (i % 10) AS site FROM generate_series(1, $3) i
                               UNION ALL SELECT 'n' || i, 's' || (i % 10) FROM generate_series(1, $4) i) d
                        CROSS JOIN generate_series(0, $5 - 1) r`),
    [tenant, new Date(minute).toISOString(), fixture.known, fixture.fresh, ROWS],
  );

  let outcome: FoldOutcome | undefined;
  const plans = await nestedPlans(pool, async (db) => {
    outcome = await foldClaimedLabelSamples(db, { tenantId: tenant, minutes: [new Date(minute).toISOString()] }, () => lockTenantLabelVersions(db, tenant));
  });
  const keys = fixture.known + fixture.fresh;
  t.equal(outcome?.samples, keys * ROWS, 'every sample of the minute was folded');
  t.equal(outcome?.devices.length, fixture.fresh, 'the new devices got versions, the known ones kept theirs');
  t.ok(plans.some((p) => p.query.includes('fold_label_sample(tenant')), 'the premise: the plans of the nested statements were seen');

  const scans = plans.flatMap((p) => planNodes(p.plan).map((node) => ({ node, query: p.query })))
    .filter(({ node }) => node['Node Type'].endsWith('Scan') && node['Relation Name'] === 'label_versions');
  const read = (node: PlanNode) => ((node['Actual Rows'] ?? 0) + (node['Rows Removed by Filter'] ?? 0)) * (node['Actual Loops'] ?? 1);
  const total = scans.reduce((sum, { node }) => sum + read(node), 0);
  // A few reads per key and statement: the probes of two collapses, each first sight's look-up and
  // insert, the last_sample updates and the versions before and after. Per key, not per pair of keys.
  t.ok(total <= 20 * keys, `label_versions rows read by the fold's statements: ${total}, at most 20 per key`);
  for (const { query, plan } of plans) {
    const quadratic = quadraticNodes(planNodes(plan));
    if (quadratic.length > 0) t.fail(`rows × rows work in ${query.trim().slice(0, 60)}…: ${quadratic.join('; ')}`);
  }
}

t.test('a fold after label_versions was counted empty in its pages reads each key a few times', (t) =>
  foldPlans(t, { known: 1_000, fresh: 1_000, counted: 'empty in its pages' }));

t.test("a new install's first fold (label_versions counted empty, with no pages) reads each key a few times", (t) =>
  foldPlans(t, { known: 0, fresh: 2_000, counted: 'empty, with no pages' }));
