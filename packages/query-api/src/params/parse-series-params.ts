import { badRequest } from '@strata/core';

/** Supported bucket widths; each a whole number of minutes, so one-minute rollups combine exactly. */
export const INTERVALS = {
  '1m': { sql: '1 minute', ms: 60_000 },
  '5m': { sql: '5 minutes', ms: 300_000 },
  '15m': { sql: '15 minutes', ms: 900_000 },
  '1h': { sql: '1 hour', ms: 3_600_000 },
  '1d': { sql: '1 day', ms: 86_400_000 },
} as const;
export type IntervalName = keyof typeof INTERVALS;

export const AGGREGATES = ['avg', 'min', 'max', 'sum', 'count', 'last'] as const;
export type Aggregate = (typeof AGGREGATES)[number];

export function parseInterval(text: string | undefined): IntervalName {
  const name = text ?? '1m';
  if (!Object.hasOwn(INTERVALS, name)) {
    throw badRequest('invalid interval', [{ field: 'interval', reason: `must be one of ${Object.keys(INTERVALS).join(', ')}` }]);
  }
  return name as IntervalName;
}

/** `agg=avg,max`: a comma-separated list, in the order asked, each at most once. */
export function parseAggregates(text: string | undefined): Aggregate[] {
  const names = (text ?? 'avg').split(',').map((part) => part.trim());
  for (const name of names) {
    if (!(AGGREGATES as readonly string[]).includes(name)) {
      throw badRequest('invalid agg', [{ field: 'agg', reason: `"${name}" is not one of ${AGGREGATES.join(', ')}` }]);
    }
  }
  return [...new Set(names)] as Aggregate[];
}
