import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { KeyIdentity } from '../auth/key-identity.ts';
import { requireScope } from '../auth/require-access.ts';
import type { TenantAuthenticator } from '../auth/tenant-authenticator.ts';
import { AppError } from '../errors/app-error.ts';

/** What a route needs, declared in its options as `config: { access }`. */
export type RouteAccess = 'public' | 'read' | 'write';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Omitted on a route means it needs a key with scope `all` (deny by default). */
    access?: RouteAccess;
    /**
     * Where the route reads its key, by a name in RouteAuthenticationOptions.credentialSources;
     * omitted, the Authorization header (`Bearer <key>`). Command-api's InfluxDB routes declare
     * `'influx'` (Token, Basic auth password or `p=`, as InfluxDB clients send it).
     */
    keyFrom?: string;
  }
  interface FastifyRequest {
    /** The verified key; set on every route that is not public (null on public routes). */
    auth: KeyIdentity;
  }
}

export interface RouteAuthenticationOptions {
  authenticator: Pick<TenantAuthenticator, 'authenticate'> & Partial<Pick<TenantAuthenticator, 'cached'>>;
  /** Where the key is taken from; defaults to the Authorization header (`Bearer <key>`). */
  credential?: (request: FastifyRequest) => string | undefined;
  /**
   * Other places a key may come from, each read only for the routes that declare its name as
   * `config: { keyFrom }`; every other route keeps `credential`. A route naming a source that is not
   * here fails at registration, never by accepting a key from the wrong place.
   */
  credentialSources?: Record<string, (request: FastifyRequest) => string | undefined>;
  /**
   * What a 401 for a missing key says on the routes of a source (by the same name), so a client of
   * those routes is told where they read the key, not about the Bearer header they never read.
   */
  missingKeyMessages?: Record<string, string>;
}

/**
 * One onRequest hook that authorizes by the MATCHED route's declared access, never by the request
 * URL: the router decodes `%76%31` and absolute-form targets (`POST http://h/v1/events`), so any
 * test of the raw URL can be walked around (issue 9, finding 1). Public routes skip it; `read` and
 * `write` routes need a valid key with that scope; a route that declares nothing needs scope `all`;
 * a request no route matched needs a valid key of any scope before it learns the 404.
 *
 * A callback hook, not an async one: a key already cached (every request of a steady client) is
 * answered synchronously, and an async hook costs a promise and two turns of the microtask queue on
 * every request (measured: ~2-3 µs each, against ~0.5 µs for a callback hook).
 */
export function registerRouteAuthentication(app: FastifyInstance, options: RouteAuthenticationOptions): void {
  const credential = options.credential ?? ((request: FastifyRequest) => request.headers.authorization);
  const sources = new Map(Object.entries(options.credentialSources ?? {}));
  const { authenticator } = options;
  app.decorateRequest('auth', null as unknown as KeyIdentity);
  app.addHook('onRoute', (route) => {
    const keyFrom = route.config?.keyFrom;
    if (keyFrom !== undefined && !sources.has(keyFrom)) {
      throw new Error(`route ${String(route.method)} ${route.url} reads its key from "${keyFrom}", which registerRouteAuthentication was not given`);
    }
  });
  app.addHook('onRequest', (request, _reply, done) => {
    const config = request.routeOptions.config;
    const access = config?.access;
    if (access === 'public') return done();
    let presented: string | undefined;
    let known: KeyIdentity | undefined;
    try {
      presented = (config?.keyFrom === undefined ? credential : (sources.get(config.keyFrom) ?? credential))(request);
      known = authenticator.cached?.(presented);
    } catch (error) {
      return done(error as Error);
    }
    if (known !== undefined) return authorize(request, known, access, done);
    authenticator.authenticate(presented, request.ip).then(
      (identity) => authorize(request, identity, access, done),
      (error: unknown) => done(missingKeyError(error, presented, config?.keyFrom, options.missingKeyMessages)),
    );
  });
}

/** The authenticator's 401 for no key at all, told in the words of the route's own key source. */
function missingKeyError(error: unknown, presented: string | undefined, keyFrom: string | undefined, messages: Record<string, string> | undefined): Error {
  const message = keyFrom === undefined ? undefined : messages?.[keyFrom];
  if (message === undefined || (presented !== undefined && presented !== '') || !(error instanceof AppError) || error.status !== 401) return error as Error;
  return new AppError(401, error.code, message, { headers: error.headers, cause: error });
}

function authorize(request: FastifyRequest, identity: KeyIdentity, access: Exclude<RouteAccess, 'public'> | undefined, done: (error?: Error) => void): void {
  request.auth = identity;
  if (request.routeOptions.url === undefined) return done();
  try {
    requireScope(identity, access ?? 'all');
  } catch (error) {
    return done(error as Error);
  }
  done();
}
