import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { createTestEnvironment } from '@strata/testkit';
import { buildApp } from '../src/app.ts';
import { closeQueryDeps, createQueryDeps } from '../src/deps.ts';
import { startQueryApi } from '../src/service.ts';

t.test('buildApp starts nothing; startQueryApi starts the background work and listens; stop() ends both, deps stay open', async (t) => {
  // A replica nobody listens on: its probe fails fast, but a probe round still records when it ran.
  const { config } = await createTestEnvironment(t, {
    host: '127.0.0.1',
    queryApiPort: 0,
    replicas: [{ name: 'gone', url: 'postgres://postgres@127.0.0.1:1/strata' }],
    logLevel: 'silent',
  });
  const builtDeps = createQueryDeps(config);
  t.teardown(() => closeQueryDeps(builtDeps));
  const built = await buildApp(builtDeps);
  await sleep(400);
  t.equal(builtDeps.replicas.views(Date.now())[0]?.probedAt, null, 'buildApp started no replica monitor');
  t.notOk(built.server.listening, 'nor listened');
  await built.close();

  // (Each deps takes one app: the app registers its request metrics on the deps' registry.)
  const deps = createQueryDeps(config);
  t.teardown(() => closeQueryDeps(deps));
  const probedAt = () => deps.replicas.views(Date.now())[0]?.probedAt ?? null;
  const service = await startQueryApi(deps);
  t.ok(service.app.server.listening, 'startQueryApi listens');
  t.not(probedAt(), null, 'and has run a first probe round when it resolves');
  t.equal(service.isClosing(), false);
  t.equal((await service.app.inject({ url: '/readyz' })).statusCode, 200);

  await service.stop();
  t.equal(service.isClosing(), true);
  t.notOk(service.app.server.listening, 'stop() stopped intake');
  const last = probedAt();
  await sleep(600);
  t.equal(probedAt(), last, 'and the replica monitor');
  t.same((await deps.pool.query('SELECT 1 AS one')).rows, [{ one: 1 }], 'deps stay open for their owner to close');
  await service.stop();
  t.pass('a second stop() is harmless');
});

t.test('readiness answers 503 once the service says it is closing', async (t) => {
  const { config } = await createTestEnvironment(t, { logLevel: 'silent' });
  const deps = createQueryDeps(config);
  t.teardown(() => closeQueryDeps(deps));
  let closing = false;
  const app = await buildApp(deps, { isClosing: () => closing });
  t.teardown(() => app.close());
  t.equal((await app.inject({ url: '/readyz' })).statusCode, 200);
  closing = true;
  const answer = await app.inject({ url: '/readyz' });
  t.equal(answer.statusCode, 503);
  t.same(answer.json().reasons, { process: 'shutting down' });
});
