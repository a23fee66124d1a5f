import t from 'tap';
import { loadConfig } from '@strata/core';
import { stackBanner } from './stack-banner.ts';

t.test('the banner names every listener a newcomer can send to, MQTT only when it is on', async (t) => {
  const databaseUrl = 'postgres://u:secret@localhost:5432/strata';
  const on = stackBanner(loadConfig({ MQTT_PORT: '1884', DATABASE_URL: databaseUrl }), databaseUrl, 'redis://127.0.0.1:6379');
  t.match(on, /command-api\s+http:\/\/127\.0\.0\.1:3000/);
  t.match(on, /MQTT\s+mqtt:\/\/127\.0\.0\.1:1884/);
  t.notMatch(on, /secret/, 'the database password is not printed');
  t.match(on, /postgres\s+postgres:\/\/u:\*\*\*@localhost/);
  const off = stackBanner(loadConfig({ MQTT_PORT: '0' }), 'postgres://localhost:5432/strata', 'redis://127.0.0.1:6379');
  t.notMatch(off, /MQTT/);
});
