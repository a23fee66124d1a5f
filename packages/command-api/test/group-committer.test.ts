import t from 'tap';
import { randomUUID } from 'node:crypto';
import { AppError, createLogger, createMetricsRegistry, systemClock, type BatchEvent, type NormalizedEvent } from '@strata/core';
import { GroupCommitter, type GroupCommitOptions } from '../src/ingest/group-committer.ts';
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
    { maxBatchEvents: 100, maxBatchBytes: 1e9, maxWaitMs: 5, writesInFlight: 2, maxHeldEvents: 1000, maxHeldEventsPerTenant: 1000 },
    systemClock,
    createLogger('test', 'silent'),
    createCommandMetrics(createMetricsRegistry('test')),
  );
  t.teardown(() => committer.stop());
  const event: NormalizedEvent = { device: 'd', key: 'i:1', ts: Date.now(), type: 'reading', values: { v: 1 } };
  const good = randomUUID();
  const accepted = committer.submit(good, [event], 100);
  for (const tenant of ['', 'not-a-uuid', `${good} `, `${good}x`, 'ffffffff-ffff-ffff-ffff-fffffffffff']) {
    t.throws(() => committer.submit(tenant, [event], 100), AppError, `"${tenant}" is refused at once`);
  }
  t.throws(() => committer.submit(undefined as unknown as string, [event], 100), AppError, 'so is a missing tenant');
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
    { maxBatchEvents: 10, maxBatchBytes: 1e9, maxWaitMs: 1, writesInFlight: 2, maxHeldEvents: 25, maxHeldEventsPerTenant: 25 },
    systemClock,
    createLogger('test', 'silent'),
    createCommandMetrics(createMetricsRegistry('test')),
  );
  const tenant = randomUUID();
  const answers: Promise<string>[] = [];
  for (let i = 0; i < 25; i++) {
    answers.push(committer.submit(tenant, [reading(i)], 100));
    await settle();
  }
  t.equal(store.writes.length, 2, 'two writes in flight, no more');
  t.same(store.writes.map((w) => w.events.length), [1, 1], 'each took the batch that was due when it started');
  t.equal(committer.heldEvents, 25, 'the others wait in one growing batch, not in more writes');

  const started = performance.now();
  const refused = await committer.submit(tenant, [reading(99)], 100).then(
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
  t.resolves(committer.submit(tenant, [reading(100)], 100), 'and new requests are taken again');
  for (const write of store.writes.splice(0)) write.finish();
  await settle();
  for (const write of store.writes.splice(0)) write.finish();
  await committer.stop();
});

t.test('a failed write refuses only its own batch; stop() waits for every held request', async (t) => {
  const store = stalledStore();
  const committer = new GroupCommitter(
    store.write,
    { maxBatchEvents: 2, maxBatchBytes: 1e9, maxWaitMs: 1, writesInFlight: 1, maxHeldEvents: 100, maxHeldEventsPerTenant: 100 },
    systemClock,
    createLogger('test', 'silent'),
    createCommandMetrics(createMetricsRegistry('test')),
  );
  const tenant = randomUUID();
  const first = Promise.allSettled([committer.submit(tenant, [reading(1)], 100), committer.submit(tenant, [reading(2)], 100)]);
  const second = [committer.submit(tenant, [reading(3)], 100), committer.submit(tenant, [reading(4)], 100)];
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
  const late = await committer.submit(tenant, [reading(5)], 100).catch((error: unknown) => error);
  t.match(late, { status: 503 }, 'and takes nothing new');
  store.writes.shift()?.finish();
  await stopping;
  t.equal(new Set(await Promise.all(second)).size, 1, 'the next batch is acknowledged, whole');
  t.equal(committer.heldEvents, 0);
});

/* Decision 0122: tenants take turns in batches, batches are capped in bytes, and a tenant holds a share. */
function turnCommitter(store: ReturnType<typeof stalledStore>, options: Partial<GroupCommitOptions> = {}) {
  return new GroupCommitter(
    store.write,
    { maxBatchEvents: 10, maxBatchBytes: 1e9, maxWaitMs: 1, writesInFlight: 1, maxHeldEvents: 10_000, maxHeldEventsPerTenant: 10_000, ...options },
    systemClock,
    createLogger('test', 'silent'),
    createCommandMetrics(createMetricsRegistry('test')),
  );
}
const of = (tenant: string, count: number, from = 0) => Array.from({ length: count }, (_, i) => reading(from + i)).map((event) => ({ ...event, device: tenant }));
/** Lets the store finish its writes one at a time until nothing is held; returns each write's devices. */
async function drain(store: ReturnType<typeof stalledStore>, committer: GroupCommitter): Promise<string[][]> {
  const order: string[][] = [];
  while (committer.heldEvents > 0) {
    await settle();
    for (const write of store.writes.splice(0)) {
      order.push([...new Set(write.events.map((event) => `${event.device}`))]);
      write.finish();
    }
  }
  return order;
}

t.test("a neighbour's request goes in the next batch that starts, not behind a busy tenant's backlog", async (t) => {
  const store = stalledStore();
  const committer = turnCommitter(store);
  t.teardown(() => committer.stop());
  const [busy, quiet] = [randomUUID(), randomUUID()];
  // Ten full batches of the busy tenant, then one event of its neighbour.
  const answers = Array.from({ length: 10 }, (_, r) => committer.submit(busy, of('busy', 10, r * 10), 100));
  const neighbour = committer.submit(quiet, of('quiet', 1), 100);
  const order = await drain(store, committer);
  t.equal(order.length, 11, 'eleven writes: the neighbour shares none of the full ones');
  t.same(order.slice(0, 3), [['busy'], ['busy'], ['quiet']], 'the write under way, the next one due, then the neighbour (third of eleven, not last)');
  await Promise.all([...answers, neighbour]);
});

t.test('tenants take turns batch by batch, each request whole and in its order', async (t) => {
  const store = stalledStore();
  const committer = turnCommitter(store);
  t.teardown(() => committer.stop());
  const tenants = ['a', 'b', 'c'].map((name) => ({ name, id: randomUUID() }));
  committer.submit(randomUUID(), of('first', 10), 100).catch(() => undefined);
  const answers = [];
  for (let r = 0; r < 3; r++) for (const tenant of tenants) answers.push(committer.submit(tenant.id, of(tenant.name, 6, r * 6), 100));
  const order = await drain(store, committer);
  t.same(order, [['first'], ['a'], ['b'], ['c'], ['a'], ['b'], ['c'], ['a'], ['b'], ['c']], 'six events never fit beside six: one request a batch, in turn');
  await Promise.all(answers);
});

t.test('small requests of many tenants still share one batch', async (t) => {
  const store = stalledStore();
  const committer = turnCommitter(store, { maxBatchEvents: 100, maxWaitMs: 5 });
  t.teardown(() => committer.stop());
  const answers = Array.from({ length: 50 }, (_, n) => committer.submit(randomUUID(), of(`t${n}`, 1), 100));
  await settle();
  t.equal(store.writes.length, 1, 'one write');
  t.equal(store.writes[0]?.events.length, 50, 'of all fifty');
  store.writes[0]?.finish();
  t.equal(new Set(await Promise.all(answers)).size, 1, 'acknowledged with one batch id');
});

t.test("a batch's bytes are capped: large requests go alone, small ones go together", async (t) => {
  const store = stalledStore();
  const committer = turnCommitter(store, { maxBatchEvents: 100, maxBatchBytes: 1000, writesInFlight: 1 });
  t.teardown(() => committer.stop());
  const [big, small] = [randomUUID(), randomUUID()];
  const answers = [
    committer.submit(big, of('big', 1), 5000),
    committer.submit(big, of('big', 1, 1), 5000),
    ...Array.from({ length: 3 }, (_, n) => committer.submit(small, of('small', 1, n), 300)),
  ];
  const order = await drain(store, committer);
  t.same(order, [['big'], ['big'], ['small']], 'each request past the cap goes alone; the three of 300 bytes share one batch of their own');
  await Promise.all(answers);
  t.throws(() => committer.submit(small, of('small', 1), Number.NaN), TypeError, 'a size that is not a non-negative integer is a bug');
  t.throws(() => committer.submit(small, of('small', 1), -1), TypeError);
});

t.test('a tenant holds at most its share of events; its neighbour is still taken', async (t) => {
  const store = stalledStore();
  const committer = turnCommitter(store, { maxHeldEvents: 100, maxHeldEventsPerTenant: 20 });
  t.teardown(() => committer.stop());
  const [busy, quiet] = [randomUUID(), randomUUID()];
  const held = [committer.submit(busy, of('busy', 10), 100), committer.submit(busy, of('busy', 10, 10), 100)];
  const refused = await committer.submit(busy, of('busy', 1, 20), 100).catch((error: unknown) => error);
  t.match(refused, { status: 503, message: /this tenant's earlier events are still waiting to be stored/ }, 'past its share: 503');
  t.equal(committer.heldEventsOf(busy), 20, 'and not held');
  const taken = committer.submit(quiet, of('quiet', 10), 100);
  t.equal(committer.heldEventsOf(quiet), 10, 'the neighbour is held');
  await drain(store, committer);
  await Promise.all([...held, taken]);
  t.equal(committer.heldEventsOf(busy), 0, 'a tenant holding nothing...');
  const lone = committer.submit(busy, of('busy', 30, 30), 100);
  t.equal(committer.heldEventsOf(busy), 30, '...takes a request larger than its share');
  await drain(store, committer);
  await lone;
});
