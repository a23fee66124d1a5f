import { averageOfDoubles } from './double-sql.ts';

/*
 * A span read's buckets as one JSON text built by PostgreSQL (decision 0103): `[{"ts":"…","avg":…},…]`,
 * ts first and then the aggregates in the order asked. query-api is one thread: parsing 1,440 rows
 * of seven columns, building their JSON and collecting the objects was ~4 ms of its CPU per 24 h @ 1m
 * read, where the same answer as one text column costs it ~1 ms (and PostgreSQL ~2 ms more, on
 * whichever core is free). Reads then queue less behind each other in query-api.
 *
 * The statement is the same for every choice of aggregates, so each connection prepares one plan per
 * interval: the names asked come as a text[] parameter, and the n-th aggregate of a bucket is a CASE
 * over the n-th name. A statement per ordered choice would let a client make a connection prepare
 * thousands of plans (1,956 orders of six names, per interval).
 */

/** A bucket's time as Date.prototype.toISOString writes it (the years of events, 1970–9999, are four digits). */
const TS_TEXT = `to_char(bucket AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/**
 * A float8 as a JSON number: PostgreSQL's shortest text that reads back as the same double (as
 * JavaScript's, in another notation at some magnitudes: 1e-05, 1e+15), and null for what JSON cannot
 * write: an infinity (a sum beyond a double, decision 0100) or NaN (which `<` never passes).
 */
const numberText = (expr: string): string => `CASE WHEN abs(${expr}) < 'Infinity'::float8 THEN (${expr})::text ELSE 'null' END`;

/**
 * Each aggregate a bucket can answer, from the columns of the rows it is built from: `count`, `sum`
 * (float8, ±Infinity beyond a double), `min`, `max`, `last`, `wide_avg` (the average when the sum is
 * beyond a double, else NULL) and, for a group, `devices`.
 */
const AGGREGATE_TEXT = {
  avg: numberText(`coalesce(wide_avg, ${averageOfDoubles('sum', 'count')})`),
  min: numberText('min'),
  max: numberText('max'),
  sum: numberText('sum'),
  count: numberText('count'),
  last: numberText('last'),
  devices: numberText('devices::float8'),
} as const;

export type BucketAggregate = keyof typeof AGGREGATE_TEXT;

/**
 * An aggregate expression over rows with a `bucket` (timestamptz) and the columns above: the JSON
 * array of their buckets in time order, `[]` for none. `names` is the parameter holding the names
 * asked (text[], each one of `offered`, none twice); `offered` is what the statement's rows can answer.
 */
export function bucketsJsonSql(names: string, offered: readonly BucketAggregate[]): string {
  const position = (n: number): string =>
    `CASE (${names})[${n}] ${offered.map((name) => `WHEN '${name}' THEN ',"${name}":' || ${AGGREGATE_TEXT[name]}`).join(' ')} ELSE '' END`;
  const aggregates = offered.map((_, i) => position(i + 1)).join(' || ');
  return `'[' || coalesce(string_agg('{"ts":"' || ${TS_TEXT} || '"' || ${aggregates} || '}', ',' ORDER BY bucket), '') || ']'`;
}
