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
