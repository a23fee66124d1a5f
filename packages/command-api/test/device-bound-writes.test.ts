import t from 'tap';
import { issueApiKey } from '@strata/core';
import { buildTestApp, countStaged } from './build-test-app.ts';

/* Issue 9, finding 8 on the write side: a key bound to one device writes only as that device. */
t.test('a device-bound write key may write only its own device (403 otherwise, nothing stored)', async (t) => {
  const ctx = await buildTestApp(t, { ingestMaxWaitMs: 1 });
  const bound = await issueApiKey(ctx.db, ctx.tenant.tenant, { scope: 'write', device: 'door-1' });
  if (!bound) throw new Error('no key issued');
  const post = (payload: unknown) =>
    ctx.app.inject({ method: 'POST', url: '/v1/events', headers: { authorization: `Bearer ${bound.apiKey}` }, payload: payload as object });
  const ts = Date.now() - 1000;

  const own = await post({ device: 'door-1', ts, values: { open: true } });
  t.equal(own.statusCode, 202, 'its own device');
  const foreign = await post({ device: 'door-2', ts, values: { open: true } });
  t.equal(foreign.statusCode, 403);
  t.equal(foreign.json().error.code, 'forbidden');
  t.notMatch(foreign.body, /door-1/, 'the bound device is not named');
  const mixed = await post({ events: [{ device: 'door-1', ts: ts + 1, values: { open: false } }, { device: 'door-2', ts, values: { open: true } }] });
  t.equal(mixed.statusCode, 403, 'one foreign event refuses the request');
  t.equal(await countStaged(ctx.db), 1, 'only the first, own event is stored');
});
