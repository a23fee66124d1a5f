import type { ApiDocsOptions } from '@strata/core';

/** What query-api's OpenAPI document says beyond its routes: the API as a whole and its key sources. */
export const QUERY_API_DOCS: Omit<ApiDocsOptions, 'plugins'> = {
  info: {
    title: 'Strata query API',
    version: 'v1',
    description: [
      "Reads a tenant's devices. Every `/v1` route takes an API key of scope `read` or `all` (`Authorization: Bearer <key>`); the key decides the tenant, ",
      'and a key bound to one device reads only that device.',
      '',
      'Every read takes `consistency=strong|eventual|cache` (or `X-Consistency`), `eventual` by default, and optionally `after=<token>` (or ',
      '`X-Consistency-Token`, the token a write answered with) and `maxStalenessMs=`. `strong` reflects every event acknowledged before the read ',
      'began; `eventual` is served by a replica within the staleness bound that has applied `after`, else the primary; `cache` tries Redis first. ',
      'Every answer carries `meta: {source, consistency, lagMs}` and the headers `X-Read-Source` and `X-Read-Lag-Ms`.',
      '',
      "Reads are rate-limited per tenant (READ_RATE_LIMIT_PER_SECOND; 429). A malformed parameter is a 400 naming it. Probes (`/livez`, `/readyz`, ",
      '`/metrics`), `/replicas` and these docs need no key.',
    ].join('\n'),
  },
  tags: [
    { name: 'devices', description: "a device's latest state, history, series and past state" },
    { name: 'tenant', description: 'tenant-wide reads' },
    { name: 'live', description: 'Server-Sent Events' },
    { name: 'operations', description: 'probes, metrics and the routing view (no key)' },
  ],
  securitySchemes: {
    accessToken: { type: 'apiKey', in: 'query', name: 'access_token', description: 'the key as a query parameter, on the live stream only (EventSource cannot send headers)' },
  },
};
