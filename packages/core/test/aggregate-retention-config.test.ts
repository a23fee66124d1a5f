import t from 'tap';
import { ConfigError, loadConfig } from '../src/index.ts';

t.test('AGGREGATE_RETENTION_DAYS defaults to 400 and may not be shorter than RETENTION_DAYS', async (t) => {
  t.equal(loadConfig({}).aggregateRetentionDays, 400);
  t.equal(loadConfig({ AGGREGATE_RETENTION_DAYS: '30', RETENTION_DAYS: '30' }).aggregateRetentionDays, 30);
  t.equal(loadConfig({ AGGREGATE_RETENTION_DAYS: '36500', RETENTION_DAYS: '7' }).aggregateRetentionDays, 36500);
  t.throws(() => loadConfig({ AGGREGATE_RETENTION_DAYS: '29', RETENTION_DAYS: '30' }), ConfigError);
  t.throws(() => loadConfig({ RETENTION_DAYS: '401' }), /AGGREGATE_RETENTION_DAYS: must be at least RETENTION_DAYS \(401\), got 400/);
  t.throws(() => loadConfig({ AGGREGATE_RETENTION_DAYS: '0' }), /AGGREGATE_RETENTION_DAYS/);
  t.throws(() => loadConfig({ AGGREGATE_RETENTION_DAYS: 'forever' }), /AGGREGATE_RETENTION_DAYS/);
});

t.test('AGGREGATE_SETTLE_MS defaults to 2000, takes 0 to 60000 and refuses anything else', async (t) => {
  t.equal(loadConfig({}).aggregateSettleMs, 2000);
  t.equal(loadConfig({ AGGREGATE_SETTLE_MS: '0' }).aggregateSettleMs, 0);
  t.equal(loadConfig({ AGGREGATE_SETTLE_MS: '60000' }).aggregateSettleMs, 60_000);
  for (const bad of ['-1', '60001', '1e9', '2.5', 'soon']) t.throws(() => loadConfig({ AGGREGATE_SETTLE_MS: bad }), /AGGREGATE_SETTLE_MS/, `refuses ${JSON.stringify(bad)}`);
});
