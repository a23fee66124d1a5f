/** What listRoutes needs of a Fastify instance (structural: the testkit does not depend on Fastify). */
export interface PrintsRoutes {
  printRoutes(options: { commonPrefix: boolean }): string;
}

/**
 * Every route of a built app with its methods, read back from Fastify's printRoutes (a tree, four
 * characters a level): the OpenAPI tests check each one is documented, so a route registered
 * without a schema cannot slip past them.
 */
export function listRoutes(app: PrintsRoutes): Array<{ url: string; methods: string[] }> {
  const segments: string[] = [];
  const routes: Array<{ url: string; methods: string[] }> = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const match = /^([│ ]*)[├└]── (.+?)(?: \(([^)]+)\))?$/.exec(line);
    if (!match) continue;
    segments.length = Math.floor((match[1] as string).length / 4);
    segments.push(match[2] as string);
    if (match[3] !== undefined) routes.push({ url: segments.join(''), methods: match[3].split(', ') });
  }
  return routes;
}

/** Fastify's `:device` as OpenAPI's `{device}`. */
export const openapiPath = (url: string): string => url.replace(/:(\w+)/g, '{$1}');
