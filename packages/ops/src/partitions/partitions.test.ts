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
