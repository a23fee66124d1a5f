import t from 'tap';
import { createBucketTimeFormatter } from './bucket-time-formatter.ts';

t.test('formats whole minutes exactly as toISOString does, across days, years and the epoch', async (t) => {
  const format = createBucketTimeFormatter();
  const samples = [
    0, 60_000, 86_340_000, 86_400_000, -60_000, -86_400_000 - 60_000,
    Date.UTC(2026, 10, 30, 23, 59), Date.UTC(2026, 11, 1, 0, 0), Date.UTC(2024, 1, 29, 12, 34),
    Date.UTC(1, 0, 1, 0, 1), Date.UTC(9999, 11, 31, 23, 59), Date.UTC(10_000, 0, 1, 0, 5), Date.UTC(-1, 5, 5, 5, 5),
  ];
  for (const ms of [...samples, ...samples.reverse()]) t.equal(format(ms), new Date(ms).toISOString(), String(ms));
  for (let ms = Date.UTC(2026, 10, 29, 22); ms < Date.UTC(2026, 10, 30, 2); ms += 60_000) {
    if (format(ms) !== new Date(ms).toISOString()) t.fail(`minute ${ms}`);
  }
  t.equal(format(Date.UTC(2026, 10, 30, 1, 2, 3, 4)), '2026-11-30T01:02:03.004Z', 'not a whole minute: toISOString');
});
