/*
 * Sums are exact numerics (decision 0060) and answers carry doubles. A value is at most 1e300 in
 * magnitude (EVENT_LIMITS.maxAbsNumber), so a bucket's or a group's sum passes the largest double
 * (~1.8e308) only after some 1.8e8 such values; PostgreSQL's numeric → float8 cast then fails the
 * whole read (SQLSTATE 22003, which reads map to a 400 blaming the request). These write such a sum
 * as ±Infinity instead, which the answer writes as null, and give the average it still has.
 */

/** The largest double, as the numeric literal that converts to it. */
const DOUBLE_MAX = '1.7976931348623157e308';

/** `expr` (numeric) as float8, ±Infinity beyond a double's range, NULL for NULL. */
export function numericToDouble(expr: string): string {
  return `CASE WHEN abs(${expr}) <= ${DOUBLE_MAX} THEN (${expr})::float8 ELSE sign(${expr})::float8 * 'Infinity'::float8 END`;
}

/** sum / count as float8 when the sum is beyond a double's range (the average never is); NULL otherwise, when sum / count in the reader is exact enough. */
export function averageOfWideSum(sum: string, count: string): string {
  return `CASE WHEN abs(${sum}) > ${DOUBLE_MAX} THEN (${sum} / ${count})::float8 END`;
}
