import t from 'tap';
import { expiredPartitions } from './expired-partitions.ts';
import { missingPartitions } from './missing-partitions.ts';
import { partitionDay } from './partition-day.ts';
import { utcDay } from './utc-day.ts';

const NOW = Date.UTC(2026, 2, 10, 23, 30); // 2026-03-10, late in the UTC day

t.test('utcDay is the UTC calendar day, across month ends', async (t) => {
  t.equal(utcDay(NOW), '2026-03-10');
  t.equal(utcDay(NOW, -10), '2026-02-28');
  t.equal(utcDay(NOW, 1), '2026-03-11');
});

t.test('partitionDay reads only daily partition names', async (t) => {
  t.equal(partitionDay('events_20260310'), '2026-03-10');
  t.equal(partitionDay('events_default'), undefined);
  t.equal(partitionDay('events_2026031'), undefined);
});

t.test('expiredPartitions keeps the retention window and never selects DEFAULT', async (t) => {
  const names = ['events_default', 'events_20260227', 'events_20260228', 'events_20260301', 'events_20260310', 'other'];
  t.same(expiredPartitions(names, NOW, 10), ['events_20260227']);
  t.same(expiredPartitions(names, NOW, 1), ['events_20260227', 'events_20260228', 'events_20260301']);
});

t.test('missingPartitions covers today and the days ahead', async (t) => {
  t.same(missingPartitions(['events_20260310', 'events_20260312'], NOW, 2), ['events_20260311']);
  t.same(missingPartitions([], NOW, 0), ['events_20260310']);
});

t.test('nextUtcDay refuses to step past 9999-12-31; furthestPartitionDay is today + skew days + horizon', async (t) => {
  const { nextUtcDay } = await import('./next-utc-day.ts');
  const { furthestPartitionDay } = await import('./furthest-partition-day.ts');
  t.equal(nextUtcDay('2026-02-28'), '2026-03-01');
  t.throws(() => nextUtcDay('9999-12-31'), /no YYYY-MM-DD day after 9999-12-31/);
  t.equal(furthestPartitionDay(NOW, 3_600_000, 7), '2026-03-18', 'an hour of skew counts as a day');
  t.equal(furthestPartitionDay(NOW, 0, 7), '2026-03-17');
});
