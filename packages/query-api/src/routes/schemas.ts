import { DEVICE_PATTERN } from '@strata/core';
import { Type } from 'typebox';

// Query parameters are declared as strings and parsed by the params/ helpers, so every problem is
// reported with the parameter's own name and the same wording whichever route it arrives on.
const optionalText = Type.Optional(Type.String({ maxLength: 4096 }));

export const readOptionProperties = {
  consistency: Type.Optional(Type.String({ description: 'strong | eventual (default) | cache' })),
  after: Type.Optional(Type.String({ description: 'consistency token from a write' })),
  maxStalenessMs: Type.Optional(Type.String({ description: 'staleness bound for replicas, ms' })),
};

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
  cursor: optionalText,
  sort: optionalText,
  order: optionalText,
  where: optionalText,
});

export const EventsQuery = Type.Object({
  ...readOptionProperties,
  from: optionalText,
  to: optionalText,
  type: optionalText,
  limit: Type.Optional(
    Type.String({
      maxLength: 16,
      description: 'events per page, 1-1000 (default 100); a page also ends once its values pass 4 MiB of JSON: follow nextCursor',
    }),
  ),
  cursor: optionalText,
});

export const SeriesQuery = Type.Object({
  ...readOptionProperties,
  value: Type.String({ minLength: 1, maxLength: 128 }),
  from: optionalText,
  to: optionalText,
  interval: optionalText,
  agg: optionalText,
});

export const ReadOptionsQuery = Type.Object(readOptionProperties);

export const StateAtQuery = Type.Object({
  ...readOptionProperties,
  at: optionalText,
});

export const StatsQuery = Type.Object({
  ...readOptionProperties,
  from: optionalText,
  to: optionalText,
  interval: optionalText,
  type: optionalText,
});

export const StreamQuery = Type.Object({
  device: Type.Optional(Type.String({ pattern: DEVICE_PATTERN.source })),
  access_token: optionalText,
});
