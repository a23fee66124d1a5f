import type { ApiDocsOptions } from '@strata/core';

/**
 * What command-api's OpenAPI document says beyond its routes: the API as a whole, the MQTT transport
 * (not HTTP, so no route of its own), and the places the line-protocol routes read a key from.
 */
export const COMMAND_API_DOCS: Omit<ApiDocsOptions, 'plugins'> = {
  info: {
    title: 'Strata command API',
    version: 'v1',
    description: [
      'Writes device events. Every write route takes an API key of scope `write` or `all`; the key decides the tenant. ',
      'Bad input gets a clear error and stores nothing: 400 names every invalid event (by index and field) or line (by number).',
      '',
      '**HTTP**: `POST /v1/events` (JSON, `{"events": [...]}` or NDJSON), `Authorization: Bearer <key>`. `202` once the events are in staging and the queue.',
      '',
      '**InfluxDB line protocol**: `POST /api/v2/write`, `POST /write`, `GET|HEAD /ping` and `POST /query` (`CREATE DATABASE` only) answer as InfluxDB does, ',
      'so Telegraf and the `influx` CLI work unchanged. The key as `Authorization: Token <key>` or `Bearer <key>`, the Basic auth password (any user), or `p=<key>`.',
      '',
      '**MQTT** (port `MQTT_PORT`, default 1884; 3.1.1 and 5): connect with a write key as password (or as username with an empty password, as ThingsBoard devices do) ',
      'and publish to `v1/devices/<device>/telemetry`, or `v1/devices/me/telemetry` with a key bound to one device. Payload: any HTTP body form, ',
      "ThingsBoard's `{\"ts\": <ms>, \"values\": {...}}` or an array of those, or a flat object (then `ts` = arrival time). QoS 1: the PUBACK is sent only once ",
      'the events are stored as a `202` would be. A bad key is refused at CONNECT (return code 5 / reason 0x86); a bad payload stores nothing ',
      '(MQTT 5: PUBACK reason 0x99; MQTT 3.1.1: the connection is closed).',
      '',
      'Probes (`/livez`, `/readyz`, `/metrics`) and these docs need no key.',
    ].join('\n'),
  },
  tags: [
    { name: 'write', description: 'events as JSON or NDJSON' },
    { name: 'line protocol', description: 'InfluxDB-compatible endpoints' },
    { name: 'operations', description: 'probes and metrics (no key)' },
  ],
  securitySchemes: {
    influxToken: { type: 'apiKey', in: 'header', name: 'Authorization', description: '`Token <key>` (InfluxDB 2, Telegraf); `Bearer <key>` works too' },
    influxBasic: { type: 'http', scheme: 'basic', description: 'any user name, the key as password (the influx 1.x CLI)' },
    influxQueryKey: { type: 'apiKey', in: 'query', name: 'p', description: 'the key as the 1.x `p=` parameter' },
  },
  keySources: {
    influx: [{ influxToken: [] }, { bearer: [] }, { influxBasic: [] }, { influxQueryKey: [] }],
  },
};
