import t from 'tap';
import { randomUUID } from 'node:crypto';
import { INGEST_JOB, redisKeys, type BatchEvent } from '@strata/core';
import { startTestProjector } from './start-test-projector.ts';

const BASE = Date.UTC(2026, 10, 20, 12);

/*
 * Decision 0098 end to end (from its hostile review): a tenant the projector believes unwatched gets a
 * live client while four drains are in flight. Every device's final version must reach the stream, and
 * no version twice. Not asserted here: ascending versions per device. Two drains in flight that both
 * touch a device can reach their write-throughs in either order (their results arrive on different
 * connections), as before decision 0098; clients order by `version` and the per-value times. What
 * 0098 adds, a resend never overtaken by a later write of its tenant, is held deterministically by
 * write-through-failures.test.ts.
 */

t.test('a client connecting while drains are in flight: nothing lost, nothing duplicated', async (t) => {
  const ctx = await startTestProjector(t, { projectorDrainsInFlight: 4 });
  await ctx.project([{ device: 'd0', ts: BASE, values: { n: 0 } }]); // reported unwatched
  const stream = redisKeys.liveStream(ctx.config.redisPrefix, ctx.tenant);
  let seq = 1;
  const jobs: string[] = [];
  const send = async (count: number) => {
    const adds = [];
    for (let j = 0; j < count; j++) {
      const events: BatchEvent[] = [];
      for (let k = 0; k < 3; k++) {
        const i = seq++;
        events.push({ tenantId: ctx.tenant, device: `d${i % 7}`, key: `k${i}`, ts: BASE + i * 10, type: 'reading', values: { n: i } } as BatchEvent);
      }
      const id = randomUUID();
      jobs.push(id);
      adds.push(ctx.queue.add(INGEST_JOB, { batchId: id, acceptedAt: Date.now(), events }, { jobId: id }));
    }
    await Promise.all(adds);
  };
  await send(150);
  await new Promise((r) => setTimeout(r, 30));
  await ctx.watchLive(); // the client connects mid-flight
  const [markSec, markUs] = await ctx.deps.cache.time();
  await send(150);
  for (let n = 0; n < 1000; n++) {
    const done = (await ctx.db.query('SELECT count(*)::int AS c FROM applied_batches WHERE batch_id = ANY($1)', [jobs])).rows[0].c;
    if (done === jobs.length) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  await new Promise((r) => setTimeout(r, 500));
  const entries = (await ctx.deps.cache.xrange(stream, '-', '+')).map(([id, f]) => ({ id, ...JSON.parse(f[1] as string) }));
  const finals = (await ctx.db.query('SELECT device, version, state FROM device_state WHERE tenant_id = $1', [ctx.tenant])).rows;
  t.comment(`mark at ${markSec}.${markUs}; ${entries.length} entries; first at ${entries[0]?.id}`);
  for (const row of finals) {
    const mine = entries.filter((e) => e.device === row.device);
    const versions = mine.map((e) => e.version);
    t.ok(versions.includes(Number(row.version)), `${row.device}: final version ${row.version} logged`);
    t.equal(new Set(versions).size, versions.length, `${row.device}: no duplicate versions`);
  }
  const resends = (await ctx.deps.metrics.liveDeltaResends.get()).values.find((v) => v.labels.result === 'sent')?.value ?? 0;
  t.ok(resends >= 1, `the calls that found the mark were resent (${resends})`);
});
