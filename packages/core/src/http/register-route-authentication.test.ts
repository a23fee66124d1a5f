import t from 'tap';
import Fastify from 'fastify';
import { AppError } from '../errors/app-error.ts';
import type { KeyIdentity } from '../auth/key-identity.ts';
import { registerRouteAuthentication } from './register-route-authentication.ts';

const identity: KeyIdentity = { keyId: 'k1', tenantId: 't1', scope: 'write', device: null };

/** Accepts exactly the credential `good`, as presented (no scheme stripped). */
const authenticator = {
  authenticate: async (credential: string | undefined): Promise<KeyIdentity> => {
    if (credential === 'good') return identity;
    throw new AppError(401, 'unauthorized', `refused ${String(credential)}`);
  },
};

t.test('a route reads its key from the source it names; every other route from Authorization', async (t) => {
  const app = Fastify();
  t.teardown(() => app.close());
  registerRouteAuthentication(app, { authenticator, credential: (request) => request.headers.authorization, credentialSources: { custom: (request) => request.headers['x-key'] as string | undefined } });
  app.post('/custom', { config: { access: 'write', keyFrom: 'custom' } }, async (request) => request.auth.keyId);
  app.post('/plain', { config: { access: 'write' } }, async (request) => request.auth.keyId);
  const custom = await app.inject({ method: 'POST', url: '/custom', headers: { 'x-key': 'good' } });
  t.equal(custom.statusCode, 200);
  t.equal(custom.body, 'k1');
  t.equal((await app.inject({ method: 'POST', url: '/custom', headers: { authorization: 'good' } })).statusCode, 401, 'the named source only');
  t.equal((await app.inject({ method: 'POST', url: '/plain', headers: { authorization: 'good' } })).statusCode, 200);
  t.equal((await app.inject({ method: 'POST', url: '/plain', headers: { 'x-key': 'good' } })).statusCode, 401, 'a route without keyFrom never reads the source');
});

t.test('a route naming a source that was not given fails at registration', async (t) => {
  const app = Fastify();
  t.teardown(() => app.close());
  registerRouteAuthentication(app, { authenticator });
  t.throws(() => app.post('/x', { config: { access: 'write', keyFrom: 'influx' } }, async () => 'never'), /reads its key from "influx"/);
});

t.test('a missing key on a source with its own message is told where that source reads it; other refusals stay as they were', async (t) => {
  const app = Fastify();
  t.teardown(() => app.close());
  app.setErrorHandler((error: AppError, _request, reply) => reply.code(error.status).send({ message: error.message }));
  registerRouteAuthentication(app, {
    authenticator,
    credentialSources: { custom: (request) => request.headers['x-key'] as string | undefined },
    missingKeyMessages: { custom: 'send the key in X-Key' },
  });
  app.post('/custom', { config: { access: 'write', keyFrom: 'custom' } }, async () => 'ok');
  app.post('/plain', { config: { access: 'write' } }, async () => 'ok');
  const missing = await app.inject({ method: 'POST', url: '/custom' });
  t.equal(missing.statusCode, 401);
  t.same(missing.json(), { message: 'send the key in X-Key' });
  t.same((await app.inject({ method: 'POST', url: '/custom', headers: { 'x-key': 'bad' } })).json(), { message: 'refused bad' }, 'a wrong key keeps its answer');
  t.same((await app.inject({ method: 'POST', url: '/plain' })).json(), { message: 'refused undefined' }, 'a route without the source keeps the authenticator\'s');
});
