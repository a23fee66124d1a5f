import { badRequest } from '@strata/core';

/** The unit of a request's timestamps. */
export type Precision = 'ns' | 'us' | 'ms' | 's' | 'm' | 'h';

/** `/api/v2/write` names, as InfluxDB 2 takes them. */
export const V2_PRECISIONS: ReadonlyMap<string, Precision> = new Map([
  ['ns', 'ns'], ['us', 'us'], ['ms', 'ms'], ['s', 's'],
]);

/** `/write` names, as InfluxDB 1.x takes them (its clients send `n`, `u`, and some `ns`, `us`, `m`, `h`). */
export const V1_PRECISIONS: ReadonlyMap<string, Precision> = new Map([
  ['n', 'ns'], ['ns', 'ns'], ['u', 'us'], ['us', 'us'], ['µ', 'us'], ['ms', 'ms'], ['s', 's'], ['m', 'm'], ['h', 'h'],
]);

/**
 * The `precision` query parameter; absent or empty (the 1.x CLI sends `precision=`) is nanoseconds,
 * InfluxDB's default. Anything else is a 400 naming the accepted values.
 */
export function readPrecision(value: unknown, names: ReadonlyMap<string, Precision>): Precision {
  if (value === undefined || value === '') return 'ns';
  const precision = typeof value === 'string' ? names.get(value) : undefined;
  if (precision === undefined) {
    throw badRequest('invalid precision', [{ field: 'precision', reason: `must be one of ${[...names.keys()].join(', ')} (default ns)` }]);
  }
  return precision;
}
