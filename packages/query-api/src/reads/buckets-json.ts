import type { SeriesBucketRow } from '../queries/select-series-buckets.ts';

/** A bucket as the series statements select it; a group's also counts its reporting members. */
export type AggregateBucketRow = SeriesBucketRow & { devices?: number | null };

/**
 * Buckets as the JSON text the route's response schema describes, `[{"ts":"…","avg":…,…},…]`, with the
 * aggregates in the order asked (`avg` is sum / count, or PostgreSQL's when the sum is beyond a double). Written here instead of by the schema's
 * serializer (decision 0099): a 24 h @ 1m answer is 1,440 buckets, and fast-json-stringify matched
 * every aggregate's name against the schema's pattern and converted every number in a generic
 * helper, which with the objects built for it was ~20 % of query-api's busy time for that read (V8
 * profile, 2026-12-01). Numbers are written as fast-json-stringify writes them: `'' + n`, an
 * infinity as null, NaN refused. `formatTime` writes a bucket start as an ISO-8601 date-time.
 */
export function bucketsJson(rows: readonly AggregateBucketRow[], aggregates: readonly string[], formatTime: (ms: number) => string): string {
  const keys = aggregates.map((aggregate) => `,"${aggregate}":`);
  // Each bucket is built by concatenation and the whole by join, which copies the parts into one flat
  // string. Built by += throughout, the answer stayed a chain of thousands of small pieces, ~2.9 times
  // its text in memory, and query-api keeps answers (decision 0103; hostile review).
  const buckets = new Array<string>(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    let bucket = `{"ts":"${formatTime(row.ms)}"`;
    for (let a = 0; a < aggregates.length; a++) {
      const aggregate = aggregates[a] as keyof AggregateBucketRow | 'avg';
      bucket += keys[a]! + numberJson(aggregate === 'avg' ? (row.wide_avg ?? row.sum / row.count) : Number(row[aggregate]));
    }
    buckets[i] = `${bucket}}`;
  }
  return `[${buckets.join(',')}]`;
}

/** A number as the schema serializer writes it: `'' + n`, an infinity as null, NaN refused. */
export function numberJson(n: number): string {
  // eslint-disable-next-line no-self-compare
  if (n !== n) throw new Error('a number in the answer is NaN');
  return n === Infinity || n === -Infinity ? 'null' : `${n}`;
}
