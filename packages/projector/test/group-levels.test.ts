import t from 'tap';
import type { Pool } from '@strata/core';
import { buildAggregateRefreshLoop } from '../src/aggregation/build-aggregate-refresh-loop.ts';
import { refreshAggregates } from '../src/aggregation/refresh-aggregates.ts';
import { GROUP_MINUTE_STEP_BYTES, GROUP_MINUTE_STEPS } from '../src/queries/group-minute-sql.ts';
import { closeProjectorDeps, createProjectorDeps } from '../src/deps.ts';
import { startTestProjector, type ProjectorTestContext } from './start-test-projector.ts';
import { foldAsLabelWrite, type ApiLabelSample as Sample } from './fold-as-label-write.ts';

/*
 * Group levels (decision 0074) against an oracle computed here from the per-sample definition: a
 * device's label L at t is its newest sample at or before t (equal times: the larger text in byte order,
 * absent the smallest), and a group (L, v) minute aggregates the minute's events whose device held
 * L = v at the event's ts. Events arrive in random batches, late and re-sent, some carrying labels;
 * label samples also come through direct folds (as command-api's label writes do); refreshes run in
 * between. Every group row at every level must then equal the oracle, `devices` and steps included.
 */
const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const BASE = Date.UTC(2026, 10, 20, 22, 50, 0); // across a UTC midnight
const DEVICES = ['d0', 'd1', 'd2', 'd3', 'd4', 'd5'];
const LABELS = { team: ['a', 'b', 'c'], zone: ['x', 'y'] } as const;
type Label = keyof typeof LABELS;

interface TestEvent {
  device: string;
  id: string;
  ts: number;
  type: string;
  values: Record<string, number | string>;
  labels?: Record<string, string>;
}

/** A seeded generator, so a failure can be replayed (the seed is printed). */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const byteOrder = (a: string, b: string): number => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

function valueAt(samples: Sample[], device: string, label: string, time: number): string | null {
  let best: Sample | undefined;
  for (const s of samples) {
    if (s.device !== device || s.label !== label || s.ts > time) continue;
    const wins = best === undefined || s.ts > best.ts || (s.ts === best.ts && s.value !== null && (best.value === null || byteOrder(s.value, best.value) > 0));
    if (wins) best = s;
  }
  return best?.value ?? null;
}

interface OracleRow {
  count: number;
  sum: number;
  min: number;
  max: number;
  last: number;
  lastTs: number;
  firstTs: number;
  devices: Set<string>;
  /** ts → sum of the values at that ts (minutes only). */
  at: Map<number, number>;
}

/** Every group row of every level, keyed label|value|key|bucket, computed event by event. */
function oracle(events: TestEvent[], samples: Sample[]): Map<string, Map<string, OracleRow>> {
  const levels = new Map<string, Map<string, OracleRow>>([['1m', new Map()], ['1h', new Map()], ['1d', new Map()]]);
  const labels = [...new Set(samples.map((s) => s.label))];
  for (const e of events) {
    for (const label of labels) {
      const held = valueAt(samples, e.device, label, e.ts);
      if (held === null) continue;
      for (const [key, value] of Object.entries(e.values)) {
        if (typeof value !== 'number') continue;
        for (const [level, width] of [['1m', MINUTE], ['1h', HOUR], ['1d', DAY]] as const) {
          const bucket = Math.floor(e.ts / width) * width;
          const id = `${label}|${held}|${key}|${bucket}`;
          const rows = levels.get(level) as Map<string, OracleRow>;
          const row = rows.get(id);
          if (row === undefined) {
            rows.set(id, { count: 1, sum: value, min: value, max: value, last: value, lastTs: e.ts, firstTs: e.ts, devices: new Set([e.device]), at: new Map([[e.ts, value]]) });
            continue;
          }
          row.count++;
          row.sum += value;
          row.min = Math.min(row.min, value);
          row.max = Math.max(row.max, value);
          if (e.ts > row.lastTs || (e.ts === row.lastTs && value > row.last)) [row.last, row.lastTs] = [value, e.ts];
          row.firstTs = Math.min(row.firstTs, e.ts);
          row.devices.add(e.device);
          row.at.set(e.ts, (row.at.get(e.ts) ?? 0) + value);
        }
      }
    }
  }
  return levels;
}

function expectedRows(rows: Map<string, OracleRow>, withSteps: boolean): unknown[] {
  return [...rows.entries()]
    .map(([id, r]) => {
      const [label, value, key, bucket] = id.split('|') as [string, string, string, string];
      const row: Record<string, unknown> = {
        label, label_value: value, value_key: key, bucket: Number(bucket), count: r.count, sum: r.sum, min: r.min, max: r.max,
        last: r.last, last_ts: r.lastTs, first_ts: r.firstTs, devices: r.devices.size,
      };
      if (withSteps) {
        const times = [...r.at.keys()].sort((a, b) => a - b);
        let running = 0;
        const sums = times.map((time) => (running += r.at.get(time) as number));
        row.step_us = times.length <= GROUP_MINUTE_STEPS ? times.map((time) => (time - Number(bucket)) * 1000) : null;
        row.step_sum = times.length <= GROUP_MINUTE_STEPS ? sums : null;
      }
      return row;
    })
    .sort((a, b) => compareKeys(a as Record<string, unknown>, b as Record<string, unknown>));
}

function compareKeys(a: Record<string, unknown>, b: Record<string, unknown>): number {
  for (const k of ['label', 'label_value', 'value_key']) {
    const c = byteOrder(a[k] as string, b[k] as string);
    if (c !== 0) return c;
  }
  return (a.bucket as number) - (b.bucket as number);
}

async function storedRows(db: Pool, tenant: string, level: string): Promise<unknown[]> {
  const steps = level === '1m' ? ', step_us, step_sum::float8[] AS step_sum' : '';
  const result = await db.query(
    `SELECT label, label_value, value_key, extract(epoch FROM bucket)::float8 * 1000 AS bucket, count::int, sum::float8 AS sum, min, max, last,
            extract(epoch FROM last_ts)::float8 * 1000 AS last_ts, extract(epoch FROM first_ts)::float8 * 1000 AS first_ts, devices${steps}
       FROM group_rollups_${level} WHERE tenant_id = $1
      ORDER BY label COLLATE "C", label_value COLLATE "C", value_key COLLATE "C", bucket`,
    [tenant],
  );
  return result.rows;
}

interface Asserts {
  same(found: unknown, wanted: unknown, message: string): unknown;
}

async function assertGroupLevels(t: Asserts, ctx: ProjectorTestContext, events: TestEvent[], samples: Sample[]): Promise<void> {
  const levels = oracle(events, samples);
  for (const level of ['1m', '1h', '1d'] as const) {
    const wanted = expectedRows(levels.get(level) as Map<string, OracleRow>, level === '1m');
    const found = await storedRows(ctx.db, ctx.tenant, level);
    t.same(found, wanted, `group_rollups_${level} = the oracle (${wanted.length} rows)`);
  }
}

interface Scenario {
  events: TestEvent[];
  /** Direct (API) samples, folded at random points of the run. */
  direct: Sample[];
}

function scenario(next: () => number): Scenario {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)] as T;
  const events: TestEvent[] = [];
  const span = 26 * HOUR;
  for (let i = 0; i < 360; i++) {
    const device = pick(DEVICES);
    const ts = BASE + Math.floor(next() * span / 1000) * 1000 + (next() < 0.3 ? Math.floor(next() * 1000) : 0);
    const values: Record<string, number | string> = { n: Math.floor(next() * 101) - 50 };
    if (next() < 0.5) values.q = Math.floor(next() * 40) / 4;
    if (next() < 0.1) values.s = 'text';
    const event: TestEvent = { device, id: `e${i}`, ts, type: 'reading', values };
    if (next() < 0.25) {
      const label = pick(Object.keys(LABELS) as Label[]);
      event.labels = { [label]: pick(LABELS[label]) };
      if (next() < 0.2) event.labels.zone = pick(LABELS.zone);
    }
    events.push(event);
  }
  // A dense minute: more than GROUP_MINUTE_STEPS distinct times of one group (its steps are NULL), and one
  // at GROUP_MINUTE_STEPS exactly; devices of their own, labelled once before, that no random sample moves.
  events.push({ device: 'dense', id: 'dense-start', ts: BASE, type: 'reading', values: {}, labels: { team: 'dense' } });
  events.push({ device: 'edge', id: 'edge-start', ts: BASE, type: 'reading', values: {}, labels: { team: 'edge' } });
  const spacing = (count: number) => Math.floor(MINUTE / (count + 1));
  for (let i = 0; i < GROUP_MINUTE_STEPS + 2; i++) {
    events.push({ device: 'dense', id: `dense${i}`, ts: BASE + 3 * HOUR + i * spacing(GROUP_MINUTE_STEPS + 2), type: 'reading', values: { n: i % 7 } });
  }
  for (let i = 0; i < GROUP_MINUTE_STEPS; i++) {
    events.push({ device: 'edge', id: `edge${i}`, ts: BASE + 5 * HOUR + i * spacing(GROUP_MINUTE_STEPS), type: 'reading', values: { n: 1 } });
  }
  // Labels from the start for most devices (their first events), so groups have members throughout.
  for (const device of DEVICES.slice(0, 5)) {
    events.push({ device, id: `${device}-start`, ts: BASE - MINUTE, type: 'reading', values: { n: 0 }, labels: { team: pick(LABELS.team), zone: pick(LABELS.zone) } });
  }
  const direct: Sample[] = Array.from({ length: 14 }, () => {
    const label = pick(Object.keys(LABELS) as Label[]);
    return { device: pick(DEVICES), label, ts: BASE + Math.floor(next() * span / MINUTE) * MINUTE + (next() < 0.5 ? 30_000 : 0), value: next() < 0.2 ? null : pick(LABELS[label]) };
  });
  return { events, direct };
}

function samplesOf(events: TestEvent[]): Sample[] {
  return events.flatMap((e) => Object.entries(e.labels ?? {}).map(([label, value]) => ({ device: e.device, label, ts: e.ts, value })));
}

t.test('group minutes, hours and days equal the per-sample oracle under late events, re-sends, label samples and interleaved refreshes', async (t) => {
  const seed = Number(process.env.GROUP_SEED ?? Math.floor(Math.random() * 2 ** 31));
  t.comment(`seed ${seed} (GROUP_SEED=${seed} replays it)`);
  const next = random(seed);
  const ctx = await startTestProjector(t);
  const { events, direct } = scenario(next);
  // Random order (late arrivals), random batches, a fifth of them re-sent; direct folds and refreshes between.
  const order = events.map((e) => ({ e, k: next() })).sort((a, b) => a.k - b.k).map((x) => x.e);
  const folded: Sample[] = [];
  let cursor = 0;
  let pending = [...direct];
  while (cursor < order.length) {
    const batch = order.slice(cursor, cursor + 1 + Math.floor(next() * 60));
    cursor += batch.length;
    await ctx.project(batch);
    if (next() < 0.2) await ctx.project(batch.slice(0, Math.ceil(batch.length / 2)));
    if (next() < 0.3 && pending.length > 0) {
      const take = pending.slice(0, 1 + Math.floor(next() * 3));
      pending = pending.slice(take.length);
      await foldAsLabelWrite(ctx.db, ctx.tenant, take);
      folded.push(...take);
    }
    if (next() < 0.4) await ctx.refresh();
  }
  await foldAsLabelWrite(ctx.db, ctx.tenant, pending);
  folded.push(...pending);
  await ctx.refresh();
  const left = await ctx.db.query(`SELECT (SELECT count(*) FROM aggregate_dirty)::int AS tenant, (SELECT count(*) FROM group_dirty)::int AS grp`);
  t.same(left.rows[0], { tenant: 0, grp: 0 }, 'no note left');
  await assertGroupLevels(t, ctx, events, [...samplesOf(events), ...folded]);
  const dense = await ctx.db.query(`SELECT count(*) FILTER (WHERE step_us IS NULL)::int AS none, count(*) FILTER (WHERE cardinality(step_us) = $2)::int AS full
                                      FROM group_rollups_1m WHERE tenant_id = $1`, [ctx.tenant, GROUP_MINUTE_STEPS]);
  t.ok(dense.rows[0].none > 0 && dense.rows[0].full > 0, `exercised: minutes past ${GROUP_MINUTE_STEPS} times (${dense.rows[0].none}) and at ${GROUP_MINUTE_STEPS} (${dense.rows[0].full})`);

  // A second refresh of everything changes nothing (replace, never add).
  const before = await Promise.all(['1m', '1h', '1d'].map((level) => storedRows(ctx.db, ctx.tenant, level)));
  await ctx.db.query(`INSERT INTO aggregate_dirty (tenant_id, bucket, labelled)
                      SELECT DISTINCT tenant_id, date_bin('1 minute', ts, TIMESTAMPTZ '1970-01-01 00:00:00+00'), true FROM tenant_events WHERE tenant_id = $1`, [ctx.tenant]);
  await ctx.refresh();
  const after = await Promise.all(['1m', '1h', '1d'].map((level) => storedRows(ctx.db, ctx.tenant, level)));
  t.same(after, before, 'a full re-run of every minute (labels folded again) leaves every group row as it was');
});

t.test('a minute whose running sums would pass GROUP_MINUTE_STEP_BYTES keeps no steps; its sums stay exact', async (t) => {
  const ctx = await startTestProjector(t);
  // 100 distinct times (well under GROUP_MINUTE_STEPS) of 1e300 and 1e-300 (both within the event
  // limits): each exact running sum is ~300 digits, so the minute's steps would be ~30 KB. A quiet
  // minute of the same group beside it keeps its steps.
  const huge: TestEvent[] = Array.from({ length: 100 }, (_, i): TestEvent => ({
    device: 'wide', id: `w${i}`, ts: BASE + 2 * MINUTE + i * 500, type: 'reading', values: { n: i % 2 === 0 ? 1e300 : 1e-300 }, ...(i === 0 ? { labels: { team: 'wide' } } : {}),
  }));
  const quiet: TestEvent[] = Array.from({ length: 100 }, (_, i): TestEvent => ({ device: 'wide', id: `q${i}`, ts: BASE + 4 * MINUTE + i * 500, type: 'reading', values: { n: i } }));
  await ctx.project([...huge, ...quiet]);
  await ctx.refresh();
  const rows = await ctx.db.query<{ minute: number; steps: number | null; sum: string }>(
    `SELECT (date_part('epoch', bucket - $2::timestamptz) / 60)::int AS minute, cardinality(step_us) AS steps, sum::text AS sum
       FROM group_rollups_1m WHERE tenant_id = $1 AND label = 'team' AND label_value = 'wide' ORDER BY bucket`,
    [ctx.tenant, new Date(BASE).toISOString()],
  );
  // 50 × 1e300 + 50 × 1e-300 = 5e301 + 5e-299, written out (numeric's text, trailing zeros of the fraction aside).
  const exact = `5${'0'.repeat(301)}.${'0'.repeat(298)}5`;
  t.same(rows.rows.map((row) => [row.minute, row.steps]), [[2, null], [4, 100]], `steps only where they fit in ${GROUP_MINUTE_STEP_BYTES} bytes`);
  t.equal(rows.rows[0]?.sum.replace(/(\.\d*?)0+$/, '$1'), exact, 'the sum of 50 × 1e300 and 50 × 1e-300, exact');
});

t.test('a move by a late event re-notes the moved device\'s minutes, and the groups follow', async (t) => {
  const ctx = await startTestProjector(t);
  const start = BASE;
  const events: TestEvent[] = [
    { device: 'door', id: 'l0', ts: start, type: 'crossing', values: { n: 1 }, labels: { space: 'a' } },
    ...Array.from({ length: 20 }, (_, i): TestEvent => ({ device: 'door', id: `c${i}`, ts: start + (i + 1) * 5 * MINUTE, type: 'crossing', values: { n: i % 2 === 0 ? 1 : -1 } })),
    ...Array.from({ length: 10 }, (_, i): TestEvent => ({ device: 'other', id: `o${i}`, ts: start + i * 7 * MINUTE, type: 'crossing', values: { n: 1 }, ...(i === 0 ? { labels: { space: 'a' } } : {}) })),
  ];
  await ctx.project(events);
  await ctx.refresh();
  await assertGroupLevels(t, ctx, events, samplesOf(events));
  // Late: the door was in space b from 09:30 (35 minutes in); its minutes from there are noted for a and b.
  const late: TestEvent = { device: 'door', id: 'late', ts: start + 32 * MINUTE + 30_000, type: 'crossing', values: { n: 0 }, labels: { space: 'b' } };
  await ctx.project([late]);
  const round = await refreshAggregates(ctx.deps.pool, { now: Date.now(), maxMinutes: 1 });
  t.equal(round.labelSamples, 1, 'the late sample folded in the claim of its minute');
  const all = [...events, late];
  await ctx.refresh();
  await assertGroupLevels(t, ctx, all, samplesOf(all));
  const moved = await ctx.db.query(
    `SELECT label_value, min(bucket) = $2::timestamptz AS from_start, max(bucket) AS last FROM group_rollups_1m WHERE tenant_id = $1 GROUP BY 1 ORDER BY 1`,
    [ctx.tenant, new Date(start).toISOString()],
  );
  t.same(moved.rows.map((row) => [row.label_value, row.from_start]), [['a', true], ['b', false]], 'a keeps the minutes before the move, b has the door\'s after it');
});

t.test('a crash in the second refresher transaction leaves the first committed and the second\'s tenant and group notes intact', async (t) => {
  const ctx = await startTestProjector(t);
  const events: TestEvent[] = Array.from({ length: 40 }, (_, i): TestEvent => ({
    device: `d${i % 3}`, id: `e${i}`, ts: BASE + i * MINUTE, type: 'reading', values: { n: i }, ...(i < 3 ? { labels: { team: 'a' } } : {}),
  }));
  await ctx.project(events);
  await ctx.refresh();
  // A retroactive move (group notes) and new minutes (tenant notes), then a refresher that fails in its second transaction.
  const moved: Sample = { device: 'd1', label: 'team', ts: BASE + 10 * MINUTE + 1, value: 'b' };
  await foldAsLabelWrite(ctx.db, ctx.tenant, [moved]);
  const more: TestEvent[] = Array.from({ length: 10 }, (_, i): TestEvent => ({ device: 'd0', id: `m${i}`, ts: BASE + (50 + i) * MINUTE, type: 'reading', values: { n: 100 + i } }));
  await ctx.project(more);
  const notes = async (): Promise<{ tenant: number; grp: number }> =>
    (await ctx.db.query(`SELECT (SELECT count(DISTINCT bucket) FROM aggregate_dirty)::int AS tenant, (SELECT count(*) FROM group_dirty)::int AS grp`)).rows[0];
  const noted = await notes();
  t.equal(noted.tenant, 10);
  t.ok(noted.grp > 0, `${noted.grp} group notes`);
  await ctx.db.query(`CREATE TABLE group_hour_writes (n int)`);
  await ctx.db.query(
    `CREATE FUNCTION fail_second() RETURNS trigger LANGUAGE plpgsql AS $$
     BEGIN INSERT INTO group_hour_writes VALUES (1); IF (SELECT count(*) FROM group_hour_writes) > 1 THEN RAISE EXCEPTION 'refresher crash'; END IF; RETURN NULL; END $$`,
  );
  await ctx.db.query(`CREATE TRIGGER fail_second AFTER INSERT ON group_rollups_1h FOR EACH STATEMENT EXECUTE FUNCTION fail_second()`);
  const first = await refreshAggregates(ctx.deps.pool, { now: Date.now(), maxMinutes: 4 });
  t.equal(first.minutes, 5, 'the first transaction committed four tenant minutes and one group-noted minute (the claim\'s leftover, at least one)');
  const afterFirst = await notes();
  t.equal(afterFirst.tenant, 6, 'six tenant minutes left');
  t.ok(afterFirst.grp < noted.grp && afterFirst.grp > 0, `group notes of one minute claimed (${noted.grp} → ${afterFirst.grp})`);
  const failures: unknown[] = [];
  const failed = await refreshAggregates(ctx.deps.pool, { now: Date.now(), maxMinutes: 4, tenantFailed: (_tenant, error) => failures.push(error) });
  t.equal(failed.failedTenants, 1, 'the tenant transaction failed, and the round said so without throwing');
  t.match(String(failures[0]), /refresher crash/);
  t.same(await notes(), afterFirst, 'the failed transaction\'s tenant and group notes are all still there');
  await ctx.db.query(`DROP TRIGGER fail_second ON group_rollups_1h`);
  await ctx.refresh();
  t.same(await notes(), { tenant: 0, grp: 0 });
  const all = [...events, ...more];
  await assertGroupLevels(t, ctx, all, [...samplesOf(all), moved]);
});

t.test('labels an event fold changed are written through to the cache after the commit, newest version winning', async (t) => {
  const ctx = await startTestProjector(t, { aggregateRefreshIntervalMs: 3_600_000 });
  const key = (device: string): string => `${ctx.config.redisPrefix}:labels:${ctx.tenant}:${device}`;
  // A newer entry already there (a PUT that committed after these events) must stay.
  await ctx.deps.cache.set(key('kept'), JSON.stringify({ v: BASE + DAY, labels: { team: 'put' } }));
  await ctx.project([
    { device: 'tagged', id: 'a', ts: BASE, values: { n: 1 }, labels: { team: 'a', zone: 'x' } },
    { device: 'tagged', id: 'b', ts: BASE + MINUTE, values: { n: 2 }, labels: { team: 'b' } },
    { device: 'kept', id: 'c', ts: BASE, values: { n: 3 }, labels: { team: 'old' } },
    { device: 'plain', id: 'd', ts: BASE, values: { n: 4 } },
  ]);
  const loop = buildAggregateRefreshLoop(ctx.deps);
  t.teardown(() => loop.stop());
  await loop.runOnce();
  t.same(JSON.parse((await ctx.deps.cache.get(key('tagged'))) as string), { v: BASE + MINUTE, labels: { team: 'b', zone: 'x' } },
    'current labels, versioned by the newest start among them');
  t.same(JSON.parse((await ctx.deps.cache.get(key('kept'))) as string), { v: BASE + DAY, labels: { team: 'put' } }, 'a newer entry is kept');
  t.equal(await ctx.deps.cache.get(key('plain')), null, 'a device without labels gets no entry');
  const folds = (await ctx.deps.registry.getSingleMetric('strata_label_folds_total')?.get())?.values.find((v) => v.labels.source === 'event');
  t.equal(folds?.value, 4, 'four label samples folded');
  const notes = async (): Promise<number | undefined> => (await ctx.deps.registry.getSingleMetric('strata_group_notes')?.get())?.values[0]?.value;
  // The fold runs after the claim's group minutes (decision 0115): the group minutes its first labels
  // moved stay noted for the next round, which regroups them.
  t.ok(((await notes()) ?? 0) > 0, "the fold noted the group minutes its changes moved");
  await loop.runOnce();
  t.equal(await notes(), 0, 'the next round recomputed them: no group notes left');
});

t.test('two processes working off one labelled backlog together leave every group row equal to the oracle', async (t) => {
  const ctx = await startTestProjector(t, { aggregateRefreshIntervalMs: 3_600_000 });
  const next = random(7);
  const events: TestEvent[] = Array.from({ length: 3_000 }, (_, i): TestEvent => ({
    device: `d${i % 9}`, id: `b${i}`, ts: BASE + i * 29_000, type: 'reading', values: { n: i % 13, q: (i % 5) / 4 },
    ...(next() < 0.05 ? { labels: { team: ['a', 'b', 'c'][i % 3] as string } } : {}),
  }));
  for (let i = 0; i < events.length; i += 500) await ctx.project(events.slice(i, i + 500));
  const direct: Sample[] = [{ device: 'd1', label: 'team', ts: BASE + 6 * HOUR, value: 'c' }, { device: 'd2', label: 'team', ts: BASE + 9 * HOUR, value: null }];
  await foldAsLabelWrite(ctx.db, ctx.tenant, direct);
  const other = createProjectorDeps(ctx.config);
  t.teardown(() => closeProjectorDeps(other));
  const loops = [buildAggregateRefreshLoop(ctx.deps), buildAggregateRefreshLoop(other)];
  await Promise.all(loops.map((loop) => loop.runOnce()));
  await loops[0]?.runOnce();
  await ctx.refresh();
  await assertGroupLevels(t, ctx, events, [...samplesOf(events), ...direct]);
});

t.test('strata_group_heads_total counts the open minutes whose heads the refresh loop advanced and gave up', async (t) => {
  // The loop runs on the real clock, so the open minute is the current one: start 3 to 50 s into a
  // minute (waiting for the next if need be), so that the head can begin and the minute stays open.
  const into = (): number => Date.now() % MINUTE;
  if (into() < 3_000 || into() > 50_000) await new Promise((resolve) => setTimeout(resolve, (MINUTE - into() + 3_000) % MINUTE));
  const minute = Math.floor(Date.now() / MINUTE) * MINUTE;
  const ctx = await startTestProjector(t, { aggregateRefreshIntervalMs: 3_600_000 });
  await foldAsLabelWrite(ctx.db, ctx.tenant, [{ device: 'h0', label: 'team', ts: minute - DAY, value: 'a' }]);
  const loop = buildAggregateRefreshLoop(ctx.deps);
  t.teardown(() => loop.stop());
  const heads = async (outcome: string): Promise<number | undefined> =>
    (await ctx.deps.registry.getSingleMetric('strata_group_heads_total')?.get())?.values.find((v) => v.labels.outcome === outcome)?.value;
  t.equal(await heads('given_up'), 0, 'exported at 0 before any round');
  await ctx.project([{ device: 'h0', id: 'h-1', ts: minute + 500, values: { n: 1 } }]);
  await loop.runOnce();
  t.equal(await heads('advanced'), 1, "the open minute's head began");
  // A drain the head has not seen, with an event before it.
  await ctx.project([{ device: 'h0', id: 'h-2', ts: minute, values: { n: 2 } }]);
  await loop.runOnce();
  t.equal(await heads('given_up'), 1, 'and was given up');
  t.equal(await heads('failed'), 0, 'nothing failed');
});

t.test('group-noted minutes are recomputed whole where the notes name half their groups or more, by the noted groups otherwise; both exact', async (t) => {
  // Twelve devices, each its own `host` and one of two `rack`s: the minute holds fourteen groups.
  const ctx = await startTestProjector(t, { aggregateRefreshIntervalMs: 3_600_000 });
  const events: TestEvent[] = Array.from({ length: 48 }, (_, i): TestEvent => ({
    device: `h${i % 12}`, id: `w${i}`, ts: BASE + (i % 4) * 10_000, type: 'reading', values: { n: i },
    labels: { host: `host-${i % 12}`, rack: `r${i % 2}` },
  }));
  await ctx.project(events);
  // The claim groups the minute before its fold sees the first labels: the fold notes all fourteen
  // groups of a minute that holds none yet, and the next round recomputes it whole.
  const claimed = await refreshAggregates(ctx.deps.pool, { now: BASE + 5 * MINUTE });
  t.equal(claimed.minutes, 1, 'the minute claimed');
  const notes = await ctx.db.query(`SELECT count(DISTINCT (label, label_value))::int AS n FROM group_dirty WHERE tenant_id = $1`, [ctx.tenant]);
  t.equal(notes.rows[0].n, 14, "the fold noted every group of the claim's minute");
  t.equal((await refreshAggregates(ctx.deps.pool, { now: BASE + 5 * MINUTE })).minutes, 1, 'the noted minute recomputed');
  await assertGroupLevels(t, ctx, events, samplesOf(events));

  // One device given a label its events do not carry, from before its events on: one note of
  // fourteen groups, recomputed by the noted group alone. (A move of `rack` would last only until
  // the device's next event, which carries its rack.)
  const moved: Sample = { device: 'h3', label: 'zone', ts: BASE + 15_000, value: 'z1' };
  await foldAsLabelWrite(ctx.db, ctx.tenant, [moved]);
  const noted = await ctx.db.query(`SELECT count(DISTINCT (label, label_value))::int AS n FROM group_dirty WHERE tenant_id = $1`, [ctx.tenant]);
  t.equal(noted.rows[0].n, 1, 'the write noted its one group');
  t.equal((await refreshAggregates(ctx.deps.pool, { now: BASE + 5 * MINUTE })).minutes, 1, 'the noted minute recomputed');
  await assertGroupLevels(t, ctx, events, [...samplesOf(events), moved]);
});
