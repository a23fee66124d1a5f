import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import pg from 'pg';
import t, { type Test } from 'tap';
import { createTestEnvironment, insertIntoHistory } from '@strata/testkit';

// fold_label_samples (migration 0021) against decision 0074's per-sample definition: a label's value at
// t is that of its newest sample at or before t (equal times: the larger text in byte order wins,
// absent the smallest). Samples are folded in random orders and batches, with the events that carry
// them in history either all from the start (unfolded samples visible to the fold's look-ups, as in
// production) or only once their batch is folded. After every fold the returned ranges must be
// exactly where the stored value changed; after the last, the stored value must equal the definition
// at every probed instant.

const BASE = Date.parse('2026-01-05T00:00:00.000Z');
const STEP = 60_000;
const DEVICES = ['d1', 'd2'];
const LABELS = ['space', '__proto__'];
const VALUES = ['a', 'b', 'B', 'é'];

type Origin = 'e' | 'a';
interface Sample {
  device: string;
  label: string;
  /** Grid step; several samples share steps so ties are common. */
  at: number;
  value: string | null;
  origin: Origin;
  /** Event samples: index of the event (row in history) carrying it. */
  event?: number;
}
interface Version {
  device: string;
  label: string;
  from: number;
  to: number;
  value: string | null;
  lastSample: number;
}
interface Change {
  device: string;
  label: string;
  old: string | null;
  new: string | null;
  lo: number;
  hi: number;
}

const byteOrder = (a: string, b: string): number => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

/** Decision 0074's definition, sample by sample. */
function definedValue(samples: Sample[], device: string, label: string, time: number): string | null {
  let best: Sample | undefined;
  for (const sample of samples) {
    if (sample.device !== device || sample.label !== label || ms(sample.at) > time) continue;
    if (best === undefined || sample.at > best.at || (sample.at === best.at && wins(sample.value, best.value))) best = sample;
  }
  return best?.value ?? null;
}

function wins(candidate: string | null, current: string | null): boolean {
  if (candidate === null) return false;
  return current === null || byteOrder(candidate, current) > 0;
}

function storedValue(versions: Version[], device: string, label: string, time: number): string | null {
  const version = versions.find((v) => v.device === device && v.label === label && v.from <= time && time < v.to);
  return version?.value ?? null;
}

const ms = (at: number): number => BASE + at * STEP;

/** Every instant where a value can change, and one on either side of it. */
function probes(samples: Sample[], versions: Version[]): number[] {
  const points = new Set<number>([BASE - STEP, BASE + 100 * STEP]);
  for (const sample of samples) points.add(ms(sample.at));
  for (const version of versions) {
    points.add(version.from);
    if (Number.isFinite(version.to)) points.add(version.to);
  }
  const all = new Set<number>();
  for (const point of points) for (const delta of [-1, 0, 1, STEP / 2]) all.add(point + delta);
  return [...all].sort((a, b) => a - b);
}

/** Where two stored states differ, as maximal ranges per (device, label, old, new). */
function differences(before: Version[], after: Version[]): Change[] {
  const changes: Change[] = [];
  for (const device of DEVICES) {
    for (const label of LABELS) {
      const points = new Set<number>();
      for (const v of [...before, ...after]) {
        if (v.device !== device || v.label !== label) continue;
        points.add(v.from);
        points.add(v.to);
      }
      const sorted = [...points].sort((a, b) => a - b);
      for (let i = 0; i + 1 < sorted.length; i++) {
        const lo = sorted[i] as number;
        const hi = sorted[i + 1] as number;
        const old = storedValue(before, device, label, lo);
        const now = storedValue(after, device, label, lo);
        if (old !== now) changes.push({ device, label, old, new: now, lo, hi });
      }
    }
  }
  return canonical(changes);
}

function canonical(changes: Change[]): Change[] {
  const sorted = [...changes].sort((a, b) => a.device.localeCompare(b.device) || a.label.localeCompare(b.label) || a.lo - b.lo);
  const merged: Change[] = [];
  for (const change of sorted) {
    const last = merged.at(-1);
    if (last && last.device === change.device && last.label === change.label && last.hi === change.lo && last.old === change.old && last.new === change.new) {
      last.hi = change.hi;
    } else merged.push({ ...change });
  }
  return merged;
}

async function readVersions(pool: pg.Pool, tenant: string): Promise<Version[]> {
  const result = await pool.query<{ device: string; label: string; from: number; to: number; value: string | null; last_sample: number }>(
    `SELECT device, label, extract(epoch FROM valid_from)::float8 * 1000 AS from, extract(epoch FROM valid_to)::float8 * 1000 AS to,
            value, extract(epoch FROM last_sample)::float8 * 1000 AS last_sample
       FROM label_versions WHERE tenant_id = $1 ORDER BY device, label, valid_from`,
    [tenant],
  );
  return result.rows.map((r) => ({ device: r.device, label: r.label, from: r.from, to: r.to, value: r.value, lastSample: r.last_sample }));
}

/** One history row per event; samples sharing an event index ride in one labels map. */
async function insertEvents(pool: pg.Pool, tenant: string, samples: Sample[]): Promise<void> {
  const events = new Map<number, { device: string; at: number; labels: Record<string, string> }>();
  for (const sample of samples) {
    if (sample.origin !== 'e' || sample.event === undefined) continue;
    const event = events.get(sample.event) ?? { device: sample.device, at: sample.at, labels: {} };
    Object.defineProperty(event.labels, sample.label, { value: sample.value, enumerable: true, writable: true, configurable: true });
    events.set(sample.event, event);
  }
  for (const [index, event] of events) {
    await pool.query(
      insertIntoHistory(`SELECT $1::uuid AS tenant_id, $2::text AS device, to_timestamp($3::float8 / 1000) AS ts, $4::text AS event_key,
                                'reading' AS type, '{}'::jsonb AS "values", $5::jsonb AS labels`),
      [tenant, event.device, ms(event.at), `h:${index}`, JSON.stringify(event.labels)],
    );
  }
}

/** One fold as its callers run it: a transaction holding the tenant's aggregate lock. */
async function fold(pool: pg.Pool, tenant: string, batch: Sample[]): Promise<Change[]> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock(60060, hashtext($1::text))', [tenant]);
    const payload = batch.map((s) => ({ device: s.device, label: s.label, ts: new Date(ms(s.at)).toISOString(), value: s.value, origin: s.origin }));
    const result = await client.query<{ device: string; label: string; old_value: string | null; new_value: string | null; lo: number; hi: number }>(
      `SELECT device, label, old_value, new_value, extract(epoch FROM lo)::float8 * 1000 AS lo, extract(epoch FROM hi)::float8 * 1000 AS hi
         FROM fold_label_samples($1, $2::jsonb)`,
      [tenant, JSON.stringify(payload)],
    );
    await client.query('COMMIT');
    return result.rows.map((r) => ({ device: r.device, label: r.label, old: r.old_value, new: r.new_value, lo: r.lo, hi: r.hi }));
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  } finally {
    client.release();
  }
}

// Most samples hit one (device, label), so late samples land inside versions that already hold several.
const sampleArbitrary = fc.record({
  device: fc.constantFrom('d1', 'd1', 'd1', 'd2'),
  label: fc.constantFrom('space', 'space', 'space', '__proto__'),
  at: fc.integer({ min: 0, max: 12 }),
  // Mostly a and b: runs of one value, across the settled stretch's samples, are common.
  value: fc.option(fc.constantFrom('a', 'b', 'b', ...VALUES), { freq: 5 }),
  origin: fc.constantFrom<Origin>('e', 'e', 'a'),
});

// A scenario: optionally a settled stretch (samples of one value folded first, so versions hold many
// samples inside), then random samples folded in a random order and random batches.
const scenarioArbitrary = fc
  .tuple(fc.uniqueArray(fc.integer({ min: 0, max: 12 }), { maxLength: 6 }), fc.array(sampleArbitrary, { minLength: 1, maxLength: 24 }))
  .chain(([settledAt, raw]) => {
    const settled: Sample[] = settledAt.map((at) => ({ device: 'd1', label: 'space', at, value: 'a', origin: 'e' }));
    // Events carry strings only; an event may sample both labels of its device at once.
    const random: Sample[] = raw.map((s) => (s.origin === 'e' ? { ...s, value: s.value ?? 'a' } : s));
    const samples = [...settled, ...random];
    const first = settled.map((_, i) => i);
    return fc.record({
      samples: fc.constant(samples),
      order: fc
        .shuffledSubarray(random.map((_, i) => settled.length + i), { minLength: random.length, maxLength: random.length })
        .map((rest) => [...first, ...rest]),
      // A batch ends after a sample one time in four: batches of several samples, runs inside them.
      cuts: fc
        .array(fc.nat(3), { minLength: samples.length, maxLength: samples.length })
        .map((cuts) => cuts.map((cut, i) => cut === 0 || i === first.length - 1)),
      historyFirst: fc.boolean(),
      pairEvents: fc.boolean(),
    });
  });

t.test('fold_label_samples equals the per-sample definition in any order and batching', async (t) => {
  const { config } = await createTestEnvironment(t);
  const pool = new pg.Pool({ connectionString: config.databaseUrl, max: 2 });
  t.teardown(() => pool.end());

  await fc.assert(
    fc.asyncProperty(scenarioArbitrary, async ({ samples, order, cuts, historyFirst, pairEvents }) => {
      const tenant = randomUUID();
      // Event samples of one device at one step may share an event (one row sampling both labels).
      let next = 0;
      const shared = new Map<string, number>();
      for (const sample of samples) {
        if (sample.origin !== 'e') continue;
        const slot = `${sample.device}|${sample.at}`;
        const taken = shared.get(slot);
        if (pairEvents && taken !== undefined && !samples.some((s) => s.event === taken && s.label === sample.label)) sample.event = taken;
        else {
          sample.event = next++;
          shared.set(slot, sample.event);
        }
      }
      if (historyFirst) await insertEvents(pool, tenant, samples);
      const folded: Sample[] = [];
      let batch: Sample[] = [];
      const flush = async (): Promise<void> => {
        if (batch.length === 0) return;
        if (!historyFirst) await insertEvents(pool, tenant, batch.flatMap((s) => samples.filter((o) => o.event !== undefined && o.event === s.event)));
        const before = await readVersions(pool, tenant);
        const changes = await fold(pool, tenant, batch);
        const after = await readVersions(pool, tenant);
        folded.push(...batch);
        batch = [];
        checkShape(after);
        const expected = differences(before, after);
        const got = canonical(changes);
        if (JSON.stringify(got) !== JSON.stringify(expected)) {
          throw new Error(`changed ranges ${JSON.stringify(got)} but the stored value changed at ${JSON.stringify(expected)}`);
        }
      };
      for (let i = 0; i < order.length; i++) {
        batch.push(samples[order[i] as number] as Sample);
        if (cuts[i]) await flush();
      }
      await flush();
      const versions = await readVersions(pool, tenant);
      for (const device of DEVICES) {
        for (const label of LABELS) {
          for (const time of probes(samples, versions)) {
            const want = definedValue(folded, device, label, time);
            const have = storedValue(versions, device, label, time);
            if (want !== have) {
              throw new Error(`${device}/${label} at step ${(time - BASE) / STEP}: stored ${have}, defined ${want}; versions ${JSON.stringify(versions)}`);
            }
          }
        }
      }
    }),
    { numRuns: Number(process.env.FOLD_RUNS ?? 100) },
  );
  t.pass('every run equal to the definition');
});

/** Versions of a (device, label) are contiguous from their first start to infinity. */
function checkShape(versions: Version[]): void {
  for (let i = 0; i < versions.length; i++) {
    const v = versions[i] as Version;
    const next = versions[i + 1];
    const same = next !== undefined && next.device === v.device && next.label === v.label;
    if (same && v.to !== next.from) throw new Error(`gap or overlap after ${JSON.stringify(v)}: next ${JSON.stringify(next)}`);
    if (!same && v.to !== Infinity) throw new Error(`last version does not reach infinity: ${JSON.stringify(v)}`);
    if (v.lastSample < v.from || v.lastSample >= v.to) throw new Error(`last_sample outside its version: ${JSON.stringify(v)}`);
  }
}

t.test('a fold holds the tenant aggregate lock to its commit; bad samples name their field', async (t) => {
  const { config } = await createTestEnvironment(t);
  const pool = new pg.Pool({ connectionString: config.databaseUrl, max: 2 });
  t.teardown(() => pool.end());
  const tenant = randomUUID();
  const sample = (extra: object): string => JSON.stringify([{ device: 'd', label: 'L', ts: '2026-01-05T00:00:00Z', value: 'a', origin: 'a', ...extra }]);
  const client = await pool.connect();
  try {
    // A caller that forgot the lock still serializes with the refresher (its try-lock fails meanwhile).
    await client.query('BEGIN');
    await client.query('SELECT * FROM fold_label_samples($1, $2::jsonb)', [tenant, sample({})]);
    const other = await pool.query<{ locked: boolean }>('SELECT pg_try_advisory_lock(60060, hashtext($1::text)) AS locked', [tenant]);
    t.equal(other.rows[0]?.locked, false, 'the refresher cannot take the tenant while the fold is open');
    await client.query('COMMIT');
    for (const [extra, pattern] of [
      [{ origin: 'x' }, /origin must be/],
      [{ device: null }, /device must be/],
      [{ label: 7 }, /label must be/],
      [{ ts: null }, /ts must be/],
      [{ ts: 'infinity' }, /a finite ts/],
      [{ origin: 'e', value: null }, /value must be/],
      [{ value: ['a'] }, /value must be/],
    ] as const) {
      await client.query('BEGIN');
      await t.rejects(client.query('SELECT * FROM fold_label_samples($1, $2::jsonb)', [tenant, sample(extra)]), pattern);
      await client.query('ROLLBACK');
    }
    await t.rejects(client.query('SELECT * FROM fold_label_samples($1, $2::jsonb)', [tenant, '{"device":"d"}']), /must be a JSON array/);
    const empty = await client.query('SELECT * FROM fold_label_samples($1, $2::jsonb)', [tenant, '[]']);
    t.equal(empty.rowCount, 0, 'no samples, no changes');
    // The refresher's form: rows built in SQL, no JSON.
    const rows = await client.query<{ device: string; old_value: string | null; new_value: string }>(
      `SELECT device, old_value, new_value FROM fold_label_samples($1, ARRAY[ROW('d2', 'L', '2026-01-05T00:00:00Z', 'x', 'e')::label_sample])`,
      [tenant],
    );
    t.same(rows.rows, [{ device: 'd2', old_value: null, new_value: 'x' }], 'label_sample[] form');
    await t.rejects(
      client.query(`SELECT * FROM fold_label_samples($1, ARRAY[ROW('d2', 'L', '2026-01-05T00:00:00Z', NULL, 'e')::label_sample])`, [tenant]),
      /a value if "e"/,
    );
  } finally {
    client.release();
  }
});

t.test("decision 0074's cases, version by version", async (t) => {
  const { config } = await createTestEnvironment(t);
  const pool = new pg.Pool({ connectionString: config.databaseUrl, max: 2 });
  t.teardown(() => pool.end());
  const event = (at: number, value: string, index: number): Sample => ({ device: 'd1', label: 'space', at, value, origin: 'e', event: index });
  const api = (at: number, value: string | null): Sample => ({ device: 'd1', label: 'space', at, value, origin: 'a' });
  const shape = (versions: Version[]): string[] =>
    versions.map((v) => `[${(v.from - BASE) / STEP},${Number.isFinite(v.to) ? (v.to - BASE) / STEP : '∞'}) ${v.value} last ${(v.lastSample - BASE) / STEP}`);
  const range = (changes: Change[]): string[] =>
    changes.map((c) => `${c.old}→${c.new} [${(c.lo - BASE) / STEP},${Number.isFinite(c.hi) ? (c.hi - BASE) / STEP : '∞'})`);
  const run = async (steps: Sample[][]): Promise<{ versions: string[]; changes: string[][] }> => {
    const tenant = randomUUID();
    const changes: string[][] = [];
    for (const batch of steps) {
      await insertEvents(pool, tenant, batch);
      changes.push(range(await fold(pool, tenant, batch)));
    }
    return { versions: shape(await readVersions(pool, tenant)), changes };
  };

  let result = await run([[event(0, 'a', 0), event(4, 'a', 1), event(8, 'a', 2)], [event(2, 'b', 3)]]);
  t.same(result.versions, ['[0,2) a last 0', '[2,4) b last 2', '[4,∞) a last 8'], 'a late sample splits; the old value resumes at its next sample');
  t.same(result.changes, [['null→a [0,∞)'], ['a→b [2,4)']]);

  result = await run([[event(0, 'a', 0), event(4, 'a', 1), event(8, 'a', 2)], [event(6, 'b', 3)], [event(5, 'c', 4)]]);
  t.same(result.versions, ['[0,5) a last 4', '[5,6) c last 5', '[6,8) b last 6', '[8,∞) a last 8'], 'the first part keeps its own newest sample');
  t.same(result.changes, [['null→a [0,∞)'], ['a→b [6,8)'], ['a→c [5,6)']]);

  result = await run([[event(0, 'a', 0)], [api(5, 'a')], [event(3, 'b', 1)]]);
  t.same(result.versions, ['[0,3) a last 0', '[3,5) b last 3', '[5,∞) a last 5'], 'an API sample equal to the value is its own version and ends a later split');
  t.same(result.changes, [['null→a [0,∞)'], [], ['a→b [3,5)']]);

  result = await run([[event(2, 'a', 0)], [api(1, null)], [event(1, 'b', 1)], [api(1, 'c')]]);
  t.same(result.versions, ['[1,2) c last 1', '[2,∞) a last 2'], 'ties: absent loses to any text, the larger text wins');
  t.same(result.changes, [['null→a [2,∞)'], [], ['null→b [1,2)'], ['b→c [1,2)']]);

  result = await run([[event(0, 'b', 0), event(0, 'a', 1), event(3, 'b', 2)]]);
  t.same(result.versions, ['[0,∞) b last 3'], 'one batch, equal times: the larger wins, equal samples move last_sample');
  t.same(result.changes, [['null→b [0,∞)']]);

  result = await run([[event(0, 'a', 0), event(5, 'a', 1), event(10, 'a', 2)], [event(2, 'b', 3), event(6, 'b', 4), event(8, 'b', 5)]]);
  t.same(
    result.versions,
    ['[0,2) a last 0', '[2,5) b last 2', '[5,6) a last 5', '[6,10) b last 8', '[10,∞) a last 10'],
    'a run of one value across a stored sample of another is folded sample by sample',
  );

  result = await run([[event(0, 'a', 0), event(9, 'a', 1)], [event(4, 'b', 2), event(4, 'a', 3)], [event(6, 'a', 4)]]);
  t.same(result.changes[1], ['a→b [4,9)'], 'net of the batch, one range');
  t.same(result.changes[2], ['b→a [6,9)']);

  const tenant = randomUUID();
  const samples = [event(0, 'a', 0), event(10, 'a', 1)];
  await insertEvents(pool, tenant, samples);
  await pool.query(
    insertIntoHistory(`SELECT $1::uuid AS tenant_id, 'd1' AS device, ts, 'plain' AS event_key, 'reading' AS type, '{"v":1}'::jsonb AS "values", NULL::jsonb AS labels
                         FROM unnest(ARRAY[$2::timestamptz, $3::timestamptz]) AS ts`),
    [tenant, new Date(ms(3) + 5_000), new Date(ms(20))],
  );
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock(60060, hashtext($1::text))', [tenant]);
    await client.query('SELECT * FROM fold_label_samples($1, $2::jsonb)', [tenant, JSON.stringify(samples.map((s) => ({ ...s, ts: ms(s.at) })))]);
    const late = await client.query<{ changes: unknown }>(
      `SELECT jsonb_agg(c) AS changes FROM fold_label_samples($1, $2::jsonb) c`,
      [tenant, JSON.stringify([{ device: 'd1', label: 'space', ts: new Date(ms(2)).toISOString(), value: 'b', origin: 'a' }])],
    );
    const noted = await client.query<{ n: string }>('SELECT note_label_changes($1, $2::jsonb) AS n', [tenant, JSON.stringify(late.rows[0]?.changes)]);
    t.equal(noted.rows[0]?.n, '2', 'the one minute with history inside the change [2, 10), for a and for b; not 0, 10 or 20');
    const notes = await client.query<{ label_value: string; at: number }>(
      'SELECT label_value, extract(epoch FROM bucket)::float8 * 1000 AS at FROM group_dirty WHERE tenant_id = $1 ORDER BY 1, 2',
      [tenant],
    );
    t.same(
      notes.rows.map((r) => `${r.label_value}@${(r.at - BASE) / STEP}`),
      ['a@3', 'b@3'],
      'each value, each minute, once',
    );
    await client.query('ROLLBACK');
  } finally {
    client.release();
  }
});

/** d1/space's event sample at `at` (grid steps), carried by history row `event`. */
const eventSample = (at: number, value: string, event: number): Sample => ({ device: 'd1', label: 'space', at, value, origin: 'e', event });

/** Every sample in history first, then folded in `batches`: the stored value must be the definition's at every probe. */
async function foldedMatchDefinition(t: Test, samples: Sample[], batches: Sample[][]): Promise<void> {
  const { config } = await createTestEnvironment(t);
  const pool = new pg.Pool({ connectionString: config.databaseUrl, max: 2 });
  t.teardown(() => pool.end());
  const tenant = randomUUID();
  await insertEvents(pool, tenant, samples);
  for (const batch of batches) await fold(pool, tenant, batch);
  const versions = await readVersions(pool, tenant);
  for (const time of probes(samples, versions)) {
    t.equal(storedValue(versions, 'd1', 'space', time), definedValue(samples, 'd1', 'space', time), `at step ${(time - BASE) / STEP}`);
  }
}

t.test('a run and a later run of the same key in one batch, with another value in history between the first run\'s samples', async (t) => {
  // The hostile review of migration 0028 (a differential fuzzer; the same in migration 0021): every
  // sample is in history, folded in three batches. The second batch's a-run was cut to its first and
  // last sample ('ends'), and its b-run, judged on the state before the a-run was folded, moved the
  // last sample of the version the a-run then split. The split then took b@177 from history, and the
  // dropped a@204 was missing: 'b' over [177, 221) where the definition gives 'a' from 204.
  const samples = [eventSample(67, 'b', 0), eventSample(95, 'a', 1), eventSample(221, 'a', 2), eventSample(204, 'a', 3), eventSample(239, 'b', 4), eventSample(177, 'b', 5)];
  await foldedMatchDefinition(t, samples, [samples.slice(0, 1), samples.slice(1, 5), samples.slice(5)]);
});

t.test("a run whose first sample loses a tie at its instant is not cut to its ends", async (t) => {
  // The same review, with the first fix in place: b@160, then a@161 a@257 a@284 in one batch, b@161 in
  // history. a@161 loses the tie to b@161 (the larger), so the run's value starts at a@257, which
  // 'ends' had dropped: 'b' was stored up to 284.
  const samples = [eventSample(160, 'b', 0), eventSample(161, 'a', 1), eventSample(257, 'a', 2), eventSample(284, 'a', 3), eventSample(161, 'b', 4)];
  await foldedMatchDefinition(t, samples, [samples.slice(0, 4), samples.slice(4)]);
});

t.test('label_run_verdict: each way a run is settled, cut to its ends, or folded whole (migration 0029)', async (t) => {
  const { config } = await createTestEnvironment(t);
  const pool = new pg.Pool({ connectionString: config.databaseUrl, max: 1 });
  t.teardown(() => pool.end());
  const tenant = randomUUID();
  // History holds d1's 'b' at step 5: a tie at that instant that a run of 'a' starting there loses.
  await insertEvents(pool, tenant, [eventSample(5, 'b', 0)]);
  // A run of `value` over steps [first, last]; the version in force at its first, and the next start.
  const cases: { name: string; value: string; first: number; last: number; from: number | null; inForce: string | null; lastSample: number | null; next: number | null; verdict: string | null }[] = [
    { name: 'the version in force holds the value', value: 'a', first: 5, last: 9, from: 1, inForce: 'a', lastSample: 7, next: null, verdict: 'equal' },
    { name: 'no version in force', value: 'a', first: 5, last: 9, from: null, inForce: null, lastSample: null, next: null, verdict: 'ends' },
    { name: 'a version starts inside the run', value: 'a', first: 5, last: 9, from: 1, inForce: 'a', lastSample: 3, next: 9, verdict: null },
    { name: 'the next version starts after the run', value: 'a', first: 5, last: 9, from: 1, inForce: 'a', lastSample: 3, next: 10, verdict: 'equal' },
    { name: 'the version in force has a sample after the first', value: 'c', first: 5, last: 9, from: 1, inForce: 'b', lastSample: 6, next: null, verdict: null },
    { name: 'the first wins the tie with the version (larger)', value: 'c', first: 5, last: 9, from: 5, inForce: 'b', lastSample: 5, next: null, verdict: 'ends' },
    { name: 'the first loses the tie with the version starting at its instant', value: 'a', first: 5, last: 9, from: 5, inForce: 'b', lastSample: 5, next: null, verdict: null },
    { name: 'the first loses the tie with a sample of the value in force at its instant in history', value: 'a', first: 5, last: 9, from: 2, inForce: 'b', lastSample: 5, next: null, verdict: null },
    { name: 'a smaller first over an earlier version, nothing at its instant', value: 'a', first: 6, last: 9, from: 2, inForce: 'b', lastSample: 5, next: null, verdict: 'ends' },
    { name: 'an absent value in force (from the API) loses to any value', value: 'a', first: 5, last: 9, from: 2, inForce: null, lastSample: 2, next: null, verdict: 'ends' },
  ];
  const at = (step: number | null): string | null => (step === null ? null : new Date(ms(step)).toISOString());
  for (const c of cases) {
    const result = await pool.query<{ verdict: string | null }>(
      `SELECT label_run_verdict($1, 'd1', 'space', $2, $3, $4, $5, $6, $7, $8) AS verdict`,
      [tenant, c.value, at(c.first), at(c.last), at(c.from), c.inForce, at(c.lastSample), at(c.next)],
    );
    t.equal(result.rows[0]?.verdict, c.verdict, c.name);
  }
});
