import { once } from 'node:events';
import t from 'tap';
import { PROMTOOL, promtoolProblems, seedEvents } from '@strata/testkit';
import { buildTestApp, get, newTenant } from './helpers.ts';

t.test('/metrics passes promtool and records latency, reads and cache lookups', async (t) => {
  const { app, deps } = await buildTestApp(t);
  const { tenant, apiKey } = await newTenant(deps.pool);
  await seedEvents(deps.pool, [{ tenantId: tenant, device: 'a', ts: Date.UTC(2026, 0, 1), values: { temp: 1 } }]);
  // Cache reads skip a cache connection that is not open yet; wait for it so a lookup is counted.
  if (deps.cache.status !== 'ready') await once(deps.cache, 'ready');
  t.equal((await get(app, '/v1/devices/a?consistency=cache', apiKey)).status, 200);
  t.equal((await get(app, '/v1/devices/a?consistency=strong', apiKey)).status, 200);
  t.equal((await get(app, '/v1/devices?limit=0', apiKey)).status, 400);

  const response = await app.inject({ url: '/metrics' });
  t.equal(response.statusCode, 200);
  t.match(response.headers['content-type'], /text\/plain/);
  const text = response.body;
  const sample = (name: string, labels: Record<string, string>): number | undefined => {
    const line = text
      .split('\n')
      .find((l) => l.startsWith(`${name}{`) && Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)));
    return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
  };
  const duration = 'strata_http_request_duration_seconds_count';
  t.equal(sample(duration, { route: '/v1/devices/:device', method: 'GET', status: '200' }), 2);
  t.equal(sample(duration, { route: '/v1/devices', method: 'GET', status: '400' }), 1);
  t.equal(sample('strata_query_reads_total', { source: 'primary', consistency: 'strong' }), 1);
  t.equal(sample('strata_query_reads_total', { source: 'primary', consistency: 'cache' }), 1);
  t.equal(sample('strata_query_cache_lookups_total', { result: 'miss' }), 1);
  t.notMatch(text, /route="\/v1\/devices\/a"/, 'raw URLs never become labels');

  await t.test('promtool check metrics', { skip: PROMTOOL ? false : 'promtool is not installed (apt-get install prometheus)' }, async (t) => {
    const problems = promtoolProblems(text);
    t.same(problems.split('\n').filter((line) => line.includes('strata_query_')), [], 'this service\'s metrics lint clean');
    t.equal(problems, '', `promtool check metrics: ${problems.split('\n').join('; ')}`);
  });
});
