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
    { maxBatchEvents: 100, maxWaitMs: 5 },
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
