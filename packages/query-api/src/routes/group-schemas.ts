import { Type, type TSchema } from 'typebox';
import { readOptionProperties } from './schemas.ts';

// The group routes' schemas, complete (params, query and every response) so the OpenAPI document
// describes them. Query and path parameters are strings checked by params/ helpers (even `value`,
// required there, not here: a schema's missing-property error names only `querystring`), so every
// problem is a 400 naming the parameter in the same words on every route.
const name = (description: string) => Type.String({ description });

export const GroupParams = Type.Object({
  label: name('the label name (1-128 characters of well-formed Unicode without U+0000), percent-encoded'),
});

export const GroupValueParams = Type.Object({
  label: name('the label name, percent-encoded'),
  labelValue: name('the label value naming the group (same rule as a name), percent-encoded'),
});

export const GroupSeriesQuery = Type.Object({
  ...readOptionProperties,
  value: Type.Optional(Type.String({ maxLength: 4096, description: 'required: the value key aggregated over the group' })),
  from: Type.Optional(Type.String({ maxLength: 4096, description: 'RFC 3339 or Unix seconds/ms; default to - 24 h; widened to whole buckets' })),
  to: Type.Optional(Type.String({ maxLength: 4096, description: 'RFC 3339 or Unix seconds/ms, exclusive; default now' })),
  interval: Type.Optional(Type.String({ maxLength: 16, description: '1m (default) | 5m | 15m | 1h | 1d' })),
  agg: Type.Optional(Type.String({ maxLength: 256, description: 'comma-separated: avg (default), min, max, sum, count, last, devices' })),
});

export const GroupTotalQuery = Type.Object({
  ...readOptionProperties,
  value: Type.Optional(Type.String({ maxLength: 4096, description: 'required: the value key summed over the group' })),
  at: Type.Optional(Type.String({ maxLength: 4096, description: 'RFC 3339 or Unix seconds/ms; events at this instant count; default now' })),
});

const ReadMetaSchema = {
  source: Type.String({ description: 'primary | replica:<name> | cache (also X-Read-Source)' }),
  consistency: Type.String({ description: 'strong | eventual | cache, as asked' }),
  lagMs: Type.Number({ description: 'how far behind the primary the source was, ms (also X-Read-Lag-Ms)' }),
};
const Meta = Type.Object(ReadMetaSchema, { description: 'where the read was answered from' });

export const GroupValuesResponse = Type.Object(
  {
    label: Type.String(),
    values: Type.Array(
      Type.Object({ value: Type.String(), devices: Type.Integer({ description: 'devices holding this value now' }) }),
      { description: 'every value the label holds on some device now, in code point order' },
    ),
    meta: Meta,
  },
  { description: "the label's values with their device counts" },
);

export const GroupSeriesResponse = Type.Object(
  {
    label: Type.String(),
    labelValue: Type.String(),
    value: Type.String(),
    interval: Type.String(),
    buckets: Type.Array(
      Type.Object(
        { ts: Type.String({ description: "the bucket's start, ISO-8601 UTC" }) },
        { additionalProperties: Type.Number(), description: 'the aggregates asked for, in the order asked; buckets without data are left out' },
      ),
    ),
    meta: Meta,
  },
  { description: 'aggregates per bucket over the devices that held the label value at each event' },
);

export const GroupTotalResponse = Type.Object(
  {
    total: Type.Number({ description: 'the sum of the value over the group, events up to and including `at`' }),
    at: Type.String({ description: 'ISO-8601 UTC' }),
    meta: Type.Object(
      {
        ...ReadMetaSchema,
        exactAt: Type.Optional(
          Type.String({ description: 'present when the total is exact only up to and including this instant (a minute whose raw events are gone, or days before aggregate retention)' }),
        ),
      },
      { description: 'where the read was answered from' },
    ),
  },
  { description: 'the running total' },
);

/** The error body every route answers with (core's error handler): a code, a message, and for a 400 each problem by field. */
const ErrorBody = Type.Object({
  error: Type.Object({
    code: Type.String(),
    message: Type.String(),
    details: Type.Optional(Type.Array(Type.Object({ index: Type.Optional(Type.Integer()), field: Type.String(), reason: Type.String() }))),
  }),
});
const error = (description: string): TSchema => ({ ...ErrorBody, description });

export const groupErrorResponses = {
  400: error('a malformed parameter, named in details (label, labelValue, value, from, to, interval, agg, at, consistency, …)'),
  401: error('missing or invalid API key'),
  403: error('the key lacks the read scope, or is bound to one device (groups are tenant-wide)'),
  429: error("over the tenant's read rate limit (Retry-After)"),
  503: error('the database is unavailable or the statement timed out (Retry-After)'),
};
