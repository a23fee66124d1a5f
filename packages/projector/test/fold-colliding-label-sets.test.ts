import t from 'tap';
import { createPool, createLogger, lockTenantLabelVersions } from '@strata/core';
import { createTenant, createTestEnvironment, insertIntoHistory, nestedPlans, planNodes } from '@strata/testkit';
import { foldClaimedLabelSamples, type FoldOutcome } from '../src/queries/fold-claimed-label-samples.ts';

/*
 * Hostile review of decision 0129: the fold groups each device's label sets before taking them apart,
 * and grouped by the jsonb, a tenant could make that grouping compare every set with every other.
 * jsonb's hash rotates one bit per key and value, so with 17 tags of equal-length names the 2nd and
 * 34th token (the first and last tag's values) cancel when equal: each point naming a new value in
 * both has another label set and the same hash. Here the sets are grouped by their text (hashed
 * whole), and every sample is still folded.
 */
const SETS = 300; // few: one device's tag changing on every point folds in time that grows faster than its changes (noted, not this test's subject)
const TAGS = 17;

t.test('label sets that collide in jsonb\'s hash are grouped by their text, and every sample is folded', async (t) => {
  const { config } = await createTestEnvironment(t);
  const pool = createPool({ connectionString: config.databaseUrl, max: 2, applicationName: 'test' }, createLogger('test', 'silent'));
  t.teardown(() => pool.end());
  const { tenant } = await createTenant(pool, 'colliding label sets');
  const minute = Math.floor(Date.now() / 60_000) * 60_000 - 10 * 60_000;
  // Tags a00…a16; a00 and a16 both carry the point's own value, the others one value for all.
  const labels = `(SELECT jsonb_object_agg('a' || lpad(k::text, 2, '0'), CASE WHEN k IN (0, ${TAGS - 1}) THEN 'x' || i ELSE 'c' END)
                     FROM generate_series(0, ${TAGS - 1}) k)`;
  const premise = await pool.query<{ sets: number; hashes: number }>(
    `SELECT count(DISTINCT labels)::int AS sets, count(DISTINCT jsonb_hash(labels))::int AS hashes
       FROM (SELECT ${labels} AS labels FROM generate_series(1, $1) i) s`,
    [SETS],
  );
  t.same(premise.rows[0], { sets: SETS, hashes: 1 }, 'the premise: every set different, one jsonb hash for all');

  await pool.query(
    insertIntoHistory(`SELECT $1::uuid AS tenant_id, 'd1' AS device, $2::timestamptz + i * interval '1 millisecond' AS ts, 'i:' || i AS event_key,
                              'reading' AS type, '{"v": 1}'::jsonb AS "values", ${labels} AS labels
                         FROM generate_series(1, $3) i`),
    [tenant, new Date(minute).toISOString(), SETS],
  );

  let outcome: FoldOutcome | undefined;
  const plans = await nestedPlans(pool, async (db) => {
    outcome = await foldClaimedLabelSamples(db, { tenantId: tenant, minutes: [new Date(minute).toISOString()] }, () => lockTenantLabelVersions(db, tenant));
  });
  t.equal(outcome?.samples, SETS * TAGS, 'every sample of the minute was folded');
  t.same(outcome?.devices, ['d1']);

  const collect = plans.find((p) => p.query.includes('INSERT INTO claimed_label_keys'));
  t.ok(collect, 'the premise: the plan of the statement that reads history was seen');
  const groupings = planNodes(collect?.plan ?? { 'Node Type': 'none' })
    .map((node) => (node as { 'Group Key'?: string[] })['Group Key'] ?? [])
    .filter((keys) => keys.some((key) => key.includes('labels')));
  t.ok(groupings.length > 0, 'the label sets are grouped');
  for (const keys of groupings) {
    t.ok(keys.some((key) => key.includes('labels)::text')), `grouped by the sets' text: ${keys.join(', ')}`);
    t.notOk(keys.some((key) => /labels$/.test(key) && !key.includes('::text')), 'never by the jsonb itself');
  }
});
