/*
 * Sums are exact numerics (decision 0060) and answers carry doubles. PostgreSQL converts a numeric to
 * float8 by printing and parsing it, and the parse fails the whole read (SQLSTATE 22003, which reads
 * map to a 400 blaming the request) in two cases:
 *  - overflow: |sum| beyond the largest double (~1.8e308). A value is at most 1e300 in magnitude
 *    (EVENT_LIMITS.maxAbsNumber), so it takes some 1.8e8 such readings in one bucket or one group's
 *    running total;
 *  - underflow: a sum that is not zero but rounds to zero (|sum| below half the smallest double,
 *    ~2.47e-324). Three accepted readings do it: 4.4e-323, -4e-323 and -5e-324 sum to -1e-324.
 * These write an overflowing sum as ±Infinity, which the answer writes as null (and give the average
 * it still has), and an underflowing one as 0, the double nearest to it.
 */

/**
 * The least magnitude that overflows: halfway between the largest double (2^1024 − 2^971) and 2^1024,
 * where rounding goes up. Every numeric below it converts to a finite double (the largest one, at the
 * top), as an exact integer literal: the shortest decimal of the largest double, 1.7976931348623157e308,
 * is below the double itself and would have turned the band between them into null (hostile review).
 */
const DOUBLE_OVERFLOW = (2n ** 1024n - 2n ** 970n).toString();
/** Half the smallest double (4.9e-324) rounds to zero; anything below this is answered as 0. */
const DOUBLE_UNDERFLOW = '2.5e-324';

/** `expr` (numeric) as float8: ±Infinity beyond a double's range, 0 below its smallest, NULL for NULL. */
export function numericToDouble(expr: string): string {
  return `CASE WHEN abs(${expr}) >= ${DOUBLE_OVERFLOW} THEN sign(${expr})::float8 * 'Infinity'::float8
            WHEN abs(${expr}) < ${DOUBLE_UNDERFLOW} THEN 0::float8
            ELSE (${expr})::float8 END`;
}

/** sum / count as float8 when the sum is beyond a double's range (the average never is); NULL otherwise, when sum / count in the reader is exact enough. */
export function averageOfWideSum(sum: string, count: string): string {
  return `CASE WHEN abs(${sum}) >= ${DOUBLE_OVERFLOW} THEN (${sum} / ${count})::float8 END`;
}
