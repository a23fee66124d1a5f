import { DEVICE_PATTERN } from '@strata/core';
import { Type } from 'typebox';

// Query parameters are declared as strings and parsed by the params/ helpers, so every problem is
// reported with the parameter's own name and the same wording whichever route it arrives on.
const describedText = (description: string) => Type.Optional(Type.String({ maxLength: 4096, description }));

export const readOptionProperties = {
  consistency: Type.Optional(Type.String({ description: 'strong | eventual (default) | cache' })),
  after: Type.Optional(Type.String({ description: 'consistency token from a write' })),
  maxStalenessMs: Type.Optional(Type.String({ description: 'staleness bound for replicas, ms' })),
};

/**
 * The read options as headers (a query parameter wins): documented here, checked by parseReadOptions.
 * No constraints of their own, so validation never refuses what parseReadOptions would explain.
 */
export const ReadOptionHeaders = Type.Object({
  'x-consistency': Type.Optional(Type.String({ description: 'as `consistency`' })),
  'x-consistency-token': Type.Optional(Type.String({ description: 'as `after`' })),
});

export const DeviceParams = Type.Object({
  device: Type.String({ pattern: DEVICE_PATTERN.source }),
});

export const ListDevicesQuery = Type.Object({
  ...readOptionProperties,
  limit: Type.Optional(
    Type.String({
      maxLength: 16,
      description:
        'devices per page, 1-1000 (default 100); a page also ends once its values pass 4 MiB of JSON (one device is never split): follow nextCursor',
    }),
  ),
  cursor: describedText('`nextCursor` of the previous page (bound to the same sort)'),
  sort: describedText('`device` (default), `ts` or `values.<value key>`'),
  order: describedText('`asc` (default) or `desc`'),
  where: describedText('filter on values, e.g. `temp>30` (see the README)'),
  label: describedText('`<name>:<value>`: only devices with that label (split at the first `:`)'),
});

export const EventsQuery = Type.Object({
  ...readOptionProperties,
  from: describedText('RFC 3339 or Unix seconds/ms, inclusive'),
  to: describedText('RFC 3339 or Unix seconds/ms, exclusive'),
  type: describedText('only events of this type'),
  limit: Type.Optional(
    Type.String({
      maxLength: 16,
      description: 'events per page, 1-1000 (default 100); a page also ends once its values pass 4 MiB of JSON: follow nextCursor',
    }),
  ),
  cursor: describedText('`nextCursor` of the previous page'),
});

export const SeriesQuery = Type.Object({
  ...readOptionProperties,
  value: Type.String({ minLength: 1, maxLength: 128, description: 'the value key' }),
  from: describedText('RFC 3339 or Unix seconds/ms (default: a day before `to`), widened to whole buckets'),
  to: describedText('RFC 3339 or Unix seconds/ms (default now)'),
  interval: describedText('`1m` (default), `5m`, `15m`, `1h` or `1d`'),
  agg: describedText('comma-separated, in the order wanted: `avg` (default), `min`, `max`, `sum`, `count`, `last`'),
});

export const ReadOptionsQuery = Type.Object(readOptionProperties);

export const StateAtQuery = Type.Object({
  ...readOptionProperties,
  at: describedText('RFC 3339 or Unix seconds/ms (default now)'),
});

export const StatsQuery = Type.Object({
  ...readOptionProperties,
  from: describedText('RFC 3339 or Unix seconds/ms (default: a day before `to`), widened to whole buckets'),
  to: describedText('RFC 3339 or Unix seconds/ms (default now)'),
  interval: describedText('`1m`, `5m`, `15m`, `1h` (default) or `1d`'),
  type: describedText('only this event type'),
});

export const StreamQuery = Type.Object({
  device: Type.Optional(Type.String({ pattern: DEVICE_PATTERN.source, description: 'only this device (required for a key bound to one device)' })),
  access_token: describedText('the API key, for EventSource clients that cannot send Authorization (RFC 6750 §2.3)'),
});
