import { errorResponses } from '@strata/core';
import { Type, type TSchema } from 'typebox';
import { Aggregate, ReadMeta } from './read-responses.ts';

// The group routes' schemas, complete (params, query, headers and every response) so the OpenAPI
// document describes them. Query and path parameters are strings checked by params/ helpers (even
// `value`, required there, not here: a schema's missing-property error names only `querystring`),
// so every problem is a 400 naming the parameter in the same words on every route.
const name = (description: string) => Type.String({ description });

export const GroupParams = Type.Object({
  label: name('the label name (1-128 characters of well-formed Unicode without U+0000), percent-encoded'),
});

export const GroupValueParams = Type.Object({
  label: name('the label name, percent-encoded'),
  labelValue: name('the label value naming the group (same rule as a name), percent-encoded'),
});

const readOptions = {
  consistency: Type.Optional(Type.String({ description: 'strong | eventual (default) | cache (no cache holds groups: read as eventual)' })),
  after: Type.Optional(Type.String({ description: 'consistency token from a write' })),
  maxStalenessMs: Type.Optional(Type.String({ description: 'staleness bound for replicas, ms' })),
};

export const GroupValuesQuery = Type.Object({
  ...readOptions,
  limit: Type.Optional(Type.String({ maxLength: 16, description: 'values per page, 1-10000 (default 1000): follow nextCursor' })),
  cursor: Type.Optional(Type.String({ maxLength: 1024, description: '`nextCursor` of the previous page' })),
});

export const GroupSeriesQuery = Type.Object({
  ...readOptions,
  value: Type.Optional(Type.String({ maxLength: 4096, description: 'required: the value key aggregated over the group' })),
  from: Type.Optional(Type.String({ maxLength: 4096, description: 'RFC 3339 or Unix seconds/ms; default to - 24 h; widened to whole buckets' })),
  to: Type.Optional(Type.String({ maxLength: 4096, description: 'RFC 3339 or Unix seconds/ms, exclusive; default now' })),
  interval: Type.Optional(Type.String({ maxLength: 16, description: '1m (default) | 5m | 15m | 1h | 1d' })),
  agg: Type.Optional(Type.String({ maxLength: 256, description: 'comma-separated, in the order wanted: avg (default), min, max, sum, count, last, devices' })),
});

export const GroupTotalQuery = Type.Object({
  ...readOptions,
  value: Type.Optional(Type.String({ maxLength: 4096, description: 'required: the value key summed over the group' })),
  at: Type.Optional(Type.String({ maxLength: 4096, description: 'RFC 3339 or Unix seconds/ms; events at this instant count; default now' })),
});

const READ_HEADERS = {
  'x-read-source': { type: 'string', description: '`primary`, `replica:<name>` or `cache`' },
  'x-read-lag-ms': { type: 'string', description: 'upper bound on the staleness of the source, ms' },
};

/** A read's success: the body with `meta`, and the X-Read-* headers (as read-responses.ts answers device reads). */
function readAnswer(properties: Record<string, TSchema>, description: string, meta: TSchema = ReadMeta): TSchema {
  return { ...Type.Object({ ...properties, meta }), description, headers: READ_HEADERS } as TSchema;
}

/** What a routed group read can fail with. */
const READ_ERRORS = [400, 401, 403, 429, 500, 503] as const;

export const GroupValuesResponses = {
  200: readAnswer(
    {
      label: Type.String(),
      values: Type.Array(Type.Object({ value: Type.String(), devices: Type.Integer({ description: 'devices holding this value now' }) }), {
        description: 'values the label holds on some device now, in code point order: one page',
      }),
      nextCursor: Type.Union([Type.String(), Type.Null()], { description: 'pass as `cursor` for the next page; null on the last' }),
    },
    "the label's values with their device counts",
  ),
  ...errorResponses(...READ_ERRORS),
};

/**
 * A bucket's aggregates by name, in the order `agg` asked for them: pattern properties, which
 * fast-json-stringify writes in the object's own order (named properties would be reordered).
 */
const GroupSeriesBucket = Type.Object(
  { ts: Type.String({ format: 'date-time', description: 'start of the bucket' }) },
  {
    patternProperties: { '^(avg|min|max|sum|count|last|devices)$': Aggregate },
    additionalProperties: false,
    description: 'one bucket with data; the aggregates asked for, in that order (`devices`: members that reported the value in it)',
  },
);

export const GroupSeriesResponses = {
  200: readAnswer(
    { label: Type.String(), labelValue: Type.String(), value: Type.String(), interval: Type.String(), buckets: Type.Array(GroupSeriesBucket) },
    "buckets with data over the group's devices, each event counted under the labels its device had at the event's time",
  ),
  ...errorResponses(...READ_ERRORS),
};

export const GroupTotalResponses = {
  200: readAnswer(
    {
      total: Type.Union([Type.Number(), Type.Null()], {
        description: 'the sum of the value over the group, events up to and including `at`; null when beyond a double (|total| beyond the largest double, ~1.8e308; decision 0100)',
      }),
      at: Type.String({ format: 'date-time' }),
    },
    'the running total',
    Type.Object(
      {
        ...ReadMeta.properties,
        exactAt: Type.Optional(
          Type.String({
            format: 'date-time',
            description: 'present when the total is exact only up to and including this earlier instant (a minute whose raw events are gone, or days past aggregate retention)',
          }),
        ),
      },
      { description: 'where the read was answered from' },
    ),
  ),
  ...errorResponses(...READ_ERRORS),
};
