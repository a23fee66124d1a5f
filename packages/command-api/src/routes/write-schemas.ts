import type { FastifySchemaCompiler } from 'fastify';
import { DEVICE_PATTERN, DEVICE_RULE, EVENT_LIMITS, NAME_RULE } from '@strata/core';
import { Type, type TSchema } from 'typebox';

/**
 * The validator of routes whose request schemas are documentation only. Their handlers check every
 * input themselves, in words the schema could not give (every bad event by index and field, every bad
 * line by number, InfluxDB's messages), and their bodies arrive parsed into shapes of our own (NDJSON
 * text, line-protocol bytes); Fastify's validator would also coerce values (`"88"` → 88) and refuse
 * before the handler could name the problem as SPEC says.
 */
export const documentOnly: FastifySchemaCompiler<unknown> = () => () => true;

const EventValuesDoc = Type.Object(
  {},
  {
    additionalProperties: Type.Union([Type.Number(), Type.String(), Type.Boolean(), Type.Null()]),
    description: `a flat map, name → finite number (|v| ≤ ${EVENT_LIMITS.maxAbsNumber}) | string (≤ 64 KiB) | boolean | null; names: ${NAME_RULE}`,
  },
);

export const EventDoc = Type.Object(
  {
    device: Type.String({ pattern: DEVICE_PATTERN.source, description: DEVICE_RULE }),
    ts: Type.Union([Type.String({ description: 'RFC 3339 with a real calendar date' }), Type.Number({ description: 'Unix seconds or milliseconds' })], {
      description: 'event time: not older than RETENTION_DAYS, not later than now + MAX_FUTURE_SKEW_MS',
    }),
    values: Type.Optional(EventValuesDoc),
    labels: Type.Optional(
      Type.Object({}, { additionalProperties: Type.String({ maxLength: 128 }), description: `the device's labels from this event's ts on (≤ ${EVENT_LIMITS.maxLabels})` }),
    ),
    type: Type.Optional(Type.String({ description: 'default `reading`' })),
    id: Type.Optional(Type.String({ maxLength: EVENT_LIMITS.idMaxLength, description: 'idempotency key, unique per device: a re-sent event is stored once' })),
  },
  {
    additionalProperties: true,
    description:
      'one event; the flat form devices already send is accepted too (`{"device", "timestamp", "heartRateValue": 88}`): every other top-level scalar becomes a value',
  },
);

export const EventsBody = {
  description: `one event, \`{"events": [...]}\` (up to ${EVENT_LIMITS.maxEventsPerRequest} events / MAX_BODY_BYTES), or NDJSON; all-or-nothing`,
  content: {
    'application/json': {
      schema: Type.Union([EventDoc, Type.Object({ events: Type.Array(EventDoc, { maxItems: EVENT_LIMITS.maxEventsPerRequest }) })]),
    },
    'application/x-ndjson': { schema: Type.String({ description: 'one event object per line' }) },
  },
};

export const Accepted = Type.Object(
  {
    accepted: Type.Integer({ description: 'events accepted (a re-sent event counts, and is stored once)' }),
    token: Type.String({ description: 'consistency token: pass it to query-api as `after=` (or X-Consistency-Token) to read your writes' }),
  },
  { description: 'every event is in staging and the queue: it will be projected, whatever crashes' },
);

/** One refused line of a line-protocol body (fast-json-stringify writes the optional `field` last). */
const LineProblem = Type.Object({
  line: Type.Integer({ description: '1-based line number' }),
  reason: Type.String(),
  field: Type.Optional(Type.String({ description: 'the part concerned (absent for a syntax error)' })),
});

/** InfluxDB 2's error shape, which its clients (Telegraf, the influx CLI) print. */
export const InfluxV2Error = Type.Object({
  code: Type.String({ description: "InfluxDB 2's code: invalid, unauthorized, forbidden, request too large, too many requests, unavailable, internal error" }),
  message: Type.String({ description: 'every bad line named, since clients print only this' }),
  line: Type.Optional(Type.Integer({ description: 'the first bad line' })),
  errors: Type.Optional(Type.Array(LineProblem, { description: 'every bad line' })),
});

/** InfluxDB 1.x's error shape. */
export const InfluxV1Error = Type.Object({
  error: Type.String({ description: 'every bad line named, since clients print only this' }),
  errors: Type.Optional(Type.Array(LineProblem, { description: 'every bad line' })),
});

const INFLUX_MEANINGS: Record<number, string> = {
  400: 'bad lines (each named, 1-based) or parameters; nothing was stored: unlike InfluxDB, no partial writes',
  401: 'missing or invalid API key',
  403: 'the key may not write',
  413: 'body (after gzip) larger than MAX_BODY_BYTES',
  415: 'not line protocol (send text/plain or no Content-Type), or an encoding other than gzip',
  429: "over the tenant's ingest rate",
  500: 'internal error',
  503: 'a dependency is unavailable or the process is shutting down',
};

/** Error responses of the line-protocol routes, in the given InfluxDB shape. */
export function influxErrorResponses(shape: TSchema, ...statuses: number[]): Record<number, TSchema> {
  return Object.fromEntries(statuses.map((status) => [status, { ...shape, description: INFLUX_MEANINGS[status] ?? 'error' }]));
}

/** What a line-protocol write answers when every line is stored. */
export const Written = {
  type: 'null',
  description: 'every line is stored, as a 202 would promise',
  headers: {
    'x-consistency-token': { type: 'string', description: 'consistency token for query-api (`after=` or X-Consistency-Token)' },
    'x-influxdb-version': { type: 'string', description: 'the InfluxDB version these routes answer as' },
  },
} as const;

export const LineProtocolBody = {
  description: 'InfluxDB line protocol, one point per line; `Content-Encoding: gzip` accepted',
  content: {
    'text/plain': { schema: Type.String() },
    'application/x-www-form-urlencoded': { schema: Type.String({ description: 'what `curl --data-binary` sends; read as line protocol' }) },
  },
};

export const deviceTagParam = Type.Optional(
  Type.String({ description: 'the tag naming each line\'s device (default `device`; a line without it uses `host`); every other tag is a label' }),
);
