import t from 'tap';
import { randomUUID } from 'node:crypto';
import { AppError, createLogger, createMetricsRegistry, systemClock, type BatchEvent, type NormalizedEvent } from '@strata/core';
import { GroupCommitter } from '../src/ingest/group-committer.ts';
import { createCommandMetrics } from '../src/metrics.ts';

/*
 * Issue 9, finding 1 behind the door: a request without a valid tenant reached the group committer
 * with tenant '' and failed the whole shared insert (uuid column) for every other tenant in it.
 */
t.test('the group committer refuses a request whose tenant is not a UUID, and never enqueues it', async (t) => {
  const written: BatchEvent[][] = [];
  const committer = new GroupCommitter(
    async (_batchId, events) => {
      written.push(events);
    },
    { maxBatchEvents: 100, maxWaitMs: 5, writesInFlight: 2, maxHeldEvents: 1000 },
    systemClock,
    createLogger('test', 'silent'),
    createCommandMetrics(createMetricsRegistry('test')),
  );
  t.teardown(() => committer.stop());
  const event: NormalizedEvent = { device: 'd', key: 'i:1', ts: Date.now(), type: 'reading', values: { v: 1 } };
  const good = randomUUID();
  const accepted = committer.submit(good, [event]);
  for (const tenant of ['', 'not-a-uuid', `${good} `, `${good}x`, 'ffffffff-ffff-ffff-ffff-fffffffffff']) {
    t.throws(() => committer.submit(tenant, [event]), AppError, `"${tenant}" is refused at once`);
  }
  t.throws(() => committer.submit(undefined as unknown as string, [event]), AppError, 'so is a missing tenant');
  await accepted;
  t.same(written.map((batch) => batch.map((e) => e.tenantId)), [[good]], 'the batch holds only the valid request');
});

/** A store whose writes finish only when the test says so. */
function stalledStore() {
  const writes: { events: BatchEvent[]; finish: (error?: Error) => void }[] = [];
  const write = (_batchId: string, events: BatchEvent[]) =>
    new Promise<void>((resolve, reject) => writes.push({ events, finish: (error) => (error ? reject(error) : resolve()) }));
  return { writes, write };
}

const reading = (n: number): NormalizedEvent => ({ device: `d${n % 7}`, key: `i:${n}`, ts: Date.now(), type: 'reading', values: { v: n } });
const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

t.test('while the store is slow the committer holds at most maxHeldEvents and refuses the rest with 503 at once', async (t) => {
  const store = stalledStore();
  const committer = new GroupCommitter(
    store.write,
    { maxBatchEvents: 10, maxWaitMs: 1, writesInFlight: 2, maxHeldEvents: 25 },
    systemClock,
    createLogger('test', 'silent'),
    createCommandMetrics(createMetricsRegistry('test')),
  );
  const tenant = randomUUID();
  const answers: Promise<string>[] = [];
  for (let i = 0; i < 25; i++) {
    answers.push(committer.submit(tenant, [reading(i)]));
    await settle();
  }
  t.equal(store.writes.length, 2, 'two writes in flight, no more');
  t.same(store.writes.map((w) => w.events.length), [1, 1], 'each took the batch that was due when it started');
  t.equal(committer.heldEvents, 25, 'the others wait in one growing batch, not in more writes');

  const started = performance.now();
  const refused = await committer.submit(tenant, [reading(99)]).then(
    () => undefined,
    (error: unknown) => error,
  );
  t.ok(performance.now() - started < 50, 'refused at once, not after the store answers');
  t.ok(refused instanceof AppError && refused.status === 503 && refused.headers?.['retry-after'] === '1', '503 with Retry-After');
  t.equal(committer.heldEvents, 25, 'the refused request is not held');

  // The store recovers: everything held is written, in batches of at most maxBatchEvents.
  while (committer.heldEvents > 0) {
    for (const write of store.writes.splice(0)) write.finish();
    await settle();
  }
  const ids = await Promise.all(answers);
  t.equal(ids.length, 25, 'every held request is acknowledged');
  t.ok(new Set(ids).size <= 5, `they shared few batches (${new Set(ids).size})`);
  t.resolves(committer.submit(tenant, [reading(100)]), 'and new requests are taken again');
  for (const write of store.writes.splice(0)) write.finish();
  await settle();
  for (const write of store.writes.splice(0)) write.finish();
  await committer.stop();
});

t.test('a failed write refuses only its own batch; stop() waits for every held request', async (t) => {
  const store = stalledStore();
  const committer = new GroupCommitter(
    store.write,
    { maxBatchEvents: 2, maxWaitMs: 1, writesInFlight: 1, maxHeldEvents: 100 },
    systemClock,
    createLogger('test', 'silent'),
    createCommandMetrics(createMetricsRegistry('test')),
  );
  const tenant = randomUUID();
  const first = Promise.allSettled([committer.submit(tenant, [reading(1)]), committer.submit(tenant, [reading(2)])]);
  const second = [committer.submit(tenant, [reading(3)]), committer.submit(tenant, [reading(4)])];
  await settle();
  t.equal(store.writes.length, 1, 'one write at a time');
  store.writes.shift()?.finish(new Error('insert failed'));
  const outcomes = await first;
  t.same(outcomes.map((o) => o.status), ['rejected', 'rejected'], 'the failed batch is refused whole');
  t.match((outcomes[0] as PromiseRejectedResult).reason, { status: 503 });
  let stopped = false;
  const stopping = committer.stop().then(() => (stopped = true));
  await settle();
  t.notOk(stopped, 'stop() waits for the write in flight');
  const late = await committer.submit(tenant, [reading(5)]).catch((error: unknown) => error);
  t.match(late, { status: 503 }, 'and takes nothing new');
  store.writes.shift()?.finish();
  await stopping;
  t.equal(new Set(await Promise.all(second)).size, 1, 'the next batch is acknowledged, whole');
  t.equal(committer.heldEvents, 0);
});
