import type { FastifyInstance, FastifyPluginAsync, FastifyPluginCallback, RouteOptions } from 'fastify';

/** Where the API reference is served: Swagger UI here, the OpenAPI document at `${DOCS_PATH}/json`. */
export const DOCS_PATH = '/docs';

/** A plain word mark for the top bar of Swagger UI. */
const LOGO_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" width="120" height="32" viewBox="0 0 120 32">' +
  '<text x="0" y="24" font-family="sans-serif" font-size="24" font-weight="bold" fill="#fff">Strata</text></svg>';

/** A security requirement of OpenAPI: scheme name → scopes (always none here). */
export type SecurityRequirement = Record<string, string[]>;

/** A documentation plugin as the service hands it in (core itself depends on no documentation library). */
type DocsPlugin = FastifyPluginCallback<never> | FastifyPluginAsync<never>;

export interface ApiDocsOptions {
  info: { title: string; version: string; description: string };
  /** @fastify/swagger and @fastify/swagger-ui, from the service's own dependencies. */
  plugins: { swagger: DocsPlugin; swaggerUi: DocsPlugin };
  tags?: Array<{ name: string; description: string }>;
  /** Security schemes beyond `bearer` (Authorization: Bearer <key>), by name. */
  securitySchemes?: Record<string, Record<string, unknown>>;
  /**
   * What a route that reads its key elsewhere (`config: { keyFrom }`, see registerRouteAuthentication)
   * accepts, as OpenAPI security alternatives, by the source's name.
   */
  keySources?: Record<string, SecurityRequirement[]>;
}

/**
 * OpenAPI 3.1 at `/docs/json` and Swagger UI at `/docs`, generated from the route schemas. Call it
 * before any route is registered (the document collects routes as they are added). Each route's
 * `security` follows the access it declares to registerRouteAuthentication, so the document cannot
 * say a route is public while the server asks it for a key: `public` → none, `keyFrom` → that
 * source's schemes, anything else → bearer; a schema's own `security` wins (the stream's
 * `access_token`). The documentation routes themselves are public: they carry no tenant data,
 * need no key, and sit outside every tenant's rate limit and read counters.
 */
export async function registerApiDocs(app: FastifyInstance, options: ApiDocsOptions): Promise<void> {
  const keySources = options.keySources ?? {};
  await app.register(options.plugins.swagger as unknown as FastifyPluginAsync<Record<string, unknown>>, {
    openapi: {
      openapi: '3.1.0',
      info: options.info,
      tags: options.tags ?? [],
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'Authorization: Bearer <api key>; the key decides the tenant and its scope (read, write or all)' },
          ...options.securitySchemes,
        },
      },
    },
    transform: ({ schema, url, route }: { schema: Record<string, unknown> | undefined; url: string; route: RouteOptions }) => ({
      schema: schema?.security !== undefined ? schema : { ...schema, security: securityOf(route, keySources) },
      url,
    }),
  });
  await app.register(async (docs) => {
    docs.addHook('onRoute', (route) => {
      route.config = { ...route.config, access: 'public' };
    });
    await docs.register(options.plugins.swaggerUi as unknown as FastifyPluginAsync<Record<string, unknown>>, {
      routePrefix: DOCS_PATH,
      uiConfig: { docExpansion: 'list', deepLinking: true },
      // Given, so the plugin reads no file while the app is built: an I/O turn there lets a fresh
      // Redis subscriber connection (key revocations, live updates) reach ioredis 5's handshake just
      // as the service subscribes, and that subscription is lost (redis/ioredis#2037).
      logo: { type: 'image/svg+xml', content: Buffer.from(LOGO_SVG), href: DOCS_PATH, target: '_self' },
    });
  });
}

function securityOf(route: RouteOptions, keySources: Record<string, SecurityRequirement[]>): SecurityRequirement[] {
  const config = route.config as { access?: string; keyFrom?: string } | undefined;
  if (config?.access === 'public') return [];
  if (config?.keyFrom !== undefined) return keySources[config.keyFrom] ?? [{ bearer: [] }];
  return [{ bearer: [] }];
}
