import type { FastifyInstance, FastifyRequest } from 'fastify';
import { answerNotFound, registerRouteAuthentication, type TenantAuthenticator } from '@strata/core';
import { refuseIllFormedText } from '../params/refuse-ill-formed-text.ts';
import { registerReadRateLimit, type ReadRateLimitDeps } from './register-read-rate-limit.ts';
import { restrictDeviceBoundKeys } from './restrict-device-bound-keys.ts';

export interface TenantScopeDeps extends ReadRateLimitDeps {
  authenticator: Pick<TenantAuthenticator, 'authenticate' | 'cached'>;
}

/**
 * The guards of the tenant-scoped API (/v1), for every route registered in `app` after them.
 * Authentication runs on `onRequest`, before the query is even validated, so a caller without a
 * valid key learns nothing about the API beyond the 401. It decides by the matched route's declared
 * access (each route says `config: { access: 'read' }`), never by the URL.
 */
export async function registerTenantScope(app: FastifyInstance, deps: TenantScopeDeps): Promise<void> {
  registerRouteAuthentication(app, { authenticator: deps.authenticator, credential: requestCredential });
  // After authentication (onRequest) and before any route: it keys on the verified tenant.
  await registerReadRateLimit(app, deps);
  // Before schema validation, for every route: U+0000 and lone surrogates never reach a query.
  app.addHook('preValidation', refuseIllFormedText);
  app.addHook('preHandler', restrictDeviceBoundKeys);
  // Unmatched /v1 paths are answered here, after this scope's hooks: without a valid key a caller
  // gets the same 401 for a path that exists and one that does not (the root 404 skips them).
  app.setNotFoundHandler(answerNotFound);
}

/**
 * A browser's EventSource cannot send an Authorization header, so the stream alone also takes the
 * key as `access_token` (RFC 6750 §2.3), decided by the matched route, not the URL. Nothing logs
 * request URLs, but a header is still preferred.
 */
function requestCredential(request: FastifyRequest): string | undefined {
  if (request.headers.authorization !== undefined || request.routeOptions.url !== '/v1/stream') return request.headers.authorization;
  const token = (request.query as { access_token?: unknown } | undefined)?.access_token;
  return typeof token === 'string' ? token : undefined;
}
