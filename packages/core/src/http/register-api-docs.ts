import type { FastifyInstance, FastifyPluginAsync, FastifyPluginCallback, RouteOptions } from 'fastify';

/** Where the API reference is served: Swagger UI here, the OpenAPI document at `${DOCS_PATH}/json`. */
export const DOCS_PATH = '/docs';

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
    });
  });
}

function securityOf(route: RouteOptions, keySources: Record<string, SecurityRequirement[]>): SecurityRequirement[] {
  const config = route.config as { access?: string; keyFrom?: string } | undefined;
  if (config?.access === 'public') return [];
  if (config?.keyFrom !== undefined) return keySources[config.keyFrom] ?? [{ bearer: [] }];
  return [{ bearer: [] }];
}
