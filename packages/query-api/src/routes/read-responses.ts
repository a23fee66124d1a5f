import { errorResponses } from '@strata/core';
import { Type, type TSchema } from 'typebox';
import { CONSISTENCY_LEVELS } from '../model/consistency.ts';
import { AGGREGATES } from '../params/parse-series-params.ts';

// Response schemas of the read routes: the OpenAPI document (/docs) and the serialisers Fastify
// compiles from them. fast-json-stringify drops every property a schema does not name and writes
// `required` properties first, so each schema names everything its route sends; maps of names the
// tenant chose (values, labels, counts) take any key.

/** A device's values: any name a device sent. Serialised as JSON.stringify would, key by key. */
export const Values = Type.Object({}, { additionalProperties: {}, description: 'value key → number | string | boolean | null' });

export const Labels = Type.Object({}, { additionalProperties: Type.String(), description: "the device's labels now: label name → value" });

export const ReadMeta = Type.Object(
  {
    source: Type.String({ description: '`primary`, `replica:<name>` or `cache` (also in X-Read-Source)' }),
    consistency: Type.String({ enum: [...CONSISTENCY_LEVELS] }),
    lagMs: Type.Number({
      description: "upper bound on the staleness of the answer, ms (also in X-Read-Lag-Ms): the source's lag, or, for a group series answered as of an open minute's head, that head's age if larger",
    }),
  },
  { description: 'where the read was answered from' },
);

export const LatestState = Type.Object({
  device: Type.String(),
  ts: Type.String({ format: 'date-time', description: 'the newest event time among the values' }),
  values: Values,
  labels: Type.Optional(Labels),
  updatedAt: Type.String({ format: 'date-time', description: 'when the state last changed (projection time)' }),
});

const EventItem = Type.Object({
  ts: Type.String({ format: 'date-time' }),
  type: Type.String(),
  values: Values,
  id: Type.Optional(Type.String({ description: "the device's own idempotency id, when it sent one" })),
});

/** One aggregate of a bucket; only `sum` is ever null (decision 0100). */
export const Aggregate = Type.Union([Type.Number(), Type.Null()], {
  description: 'a number; `sum` is null when the exact sum is beyond a double (|sum| beyond the largest double, ~1.8e308), `avg` is still given',
});

/**
 * A bucket's aggregates by name, in the order `agg` asked for them: pattern properties, which
 * fast-json-stringify writes in the object's own order (named properties would be reordered).
 */
const SeriesBucket = Type.Object(
  { ts: Type.String({ format: 'date-time', description: 'start of the bucket' }) },
  { patternProperties: { [`^(${AGGREGATES.join('|')})$`]: Aggregate }, additionalProperties: false, description: 'one bucket with data; the aggregates asked for, in that order' },
);

const StatsBucket = Type.Object({
  ts: Type.String({ format: 'date-time', description: 'start of the bucket' }),
  counts: Type.Object({}, { additionalProperties: Type.Integer(), description: 'event type → events' }),
});

const READ_HEADERS = {
  'x-read-source': { type: 'string', description: '`primary`, `replica:<name>` or `cache`' },
  'x-read-lag-ms': { type: 'string', description: 'upper bound on the staleness of the source, ms' },
};

/** A read's success: the body with `meta`, and the X-Read-* headers. */
function readAnswer(properties: Record<string, TSchema>, description: string): TSchema {
  return { ...Type.Object({ ...properties, meta: ReadMeta }), description, headers: READ_HEADERS } as TSchema;
}

const nextCursor = Type.Union([Type.String(), Type.Null()], { description: 'pass as `cursor` for the next page; null on the last' });

/** What a routed read can fail with, besides its own 404. */
const READ_ERRORS = [400, 401, 403, 429, 500, 503] as const;

export const LatestStateResponses = {
  200: readAnswer(LatestState.properties, "the device's latest state: each value the newest by event time"),
  ...errorResponses(...READ_ERRORS, 404),
};

export const DeviceListResponses = {
  200: readAnswer({ items: Type.Array(LatestState), nextCursor }, 'one page of latest states'),
  ...errorResponses(...READ_ERRORS),
};

export const EventsResponses = {
  200: readAnswer({ device: Type.String(), items: Type.Array(EventItem), nextCursor }, 'one page of history, newest first'),
  ...errorResponses(...READ_ERRORS),
};

export const SeriesResponses = {
  200: readAnswer(
    { device: Type.String(), value: Type.String(), interval: Type.String(), buckets: Type.Array(SeriesBucket) },
    'buckets with data, from the rollups; the range widened to whole buckets',
  ),
  ...errorResponses(...READ_ERRORS),
};

export const StateAtResponses = {
  200: readAnswer(
    {
      device: Type.String(),
      at: Type.String({ format: 'date-time' }),
      ts: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], { description: 'the newest event time up to `at`; null when none' }),
      values: Values,
    },
    'the values as of `at`, each the newest by event time up to it',
  ),
  ...errorResponses(...READ_ERRORS, 404),
};

export const StatsResponses = {
  200: readAnswer(
    { interval: Type.String(), type: Type.Optional(Type.String({ description: 'when filtered by type' })), buckets: Type.Array(StatsBucket) },
    "the tenant's event counts per bucket and type",
  ),
  ...errorResponses(...READ_ERRORS),
};
