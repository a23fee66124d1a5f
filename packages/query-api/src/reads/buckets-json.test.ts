import fc from 'fast-check';
import t from 'tap';
import { GROUP_AGGREGATES } from '../params/parse-group-params.ts';
import { createBucketTimeFormatter } from './bucket-time-formatter.ts';
import { bucketsJson, type AggregateBucketRow } from './buckets-json.ts';

// What the routes sent before decision 0099: an object per bucket, ts first and the aggregates in the
// order asked, serialised by the response schema's serializer, which writes numbers as JSON.stringify
// does ('' + n, an infinity as null). The average is PostgreSQL's where the sum passed a double's range.
function asObjects(rows: AggregateBucketRow[], aggregates: string[]): string {
  const format = createBucketTimeFormatter();
  return JSON.stringify(
    rows.map((row) => {
      const bucket: Record<string, number | string> = { ts: format(row.ms) };
      for (const aggregate of aggregates) bucket[aggregate] = aggregate === 'avg' ? (row.wide_avg ?? row.sum / row.count) : Number(row[aggregate as keyof AggregateBucketRow]);
      return bucket;
    }),
  );
}

const number = fc.oneof(
  fc.double({ noNaN: true }),
  fc.integer(),
  fc.constantFrom(0, -0, 1e-7, 1e21, 123456789012345680000, 5e-324, Number.MAX_VALUE, -Number.MAX_VALUE, Infinity, -Infinity),
);
const row = fc.record({
  ms: fc.integer({ min: 0, max: 4_102_444_800 }).map((minute) => minute * 60_000),
  count: fc.integer({ min: 1, max: 2 ** 40 }),
  sum: number,
  min: number,
  max: number,
  last: number,
  wide_avg: fc.option(number, { nil: null }),
  devices: fc.option(fc.integer({ min: 0, max: 1_000_000 }), { nil: null }),
});

t.test('buckets are written as the schema serializer wrote the objects, for any numbers and any aggregates in any order', async (t) => {
  fc.assert(
    fc.property(fc.array(row, { maxLength: 40 }), fc.uniqueArray(fc.constantFrom(...GROUP_AGGREGATES), { minLength: 1 }), (rows, aggregates) => {
      rows.sort((a, b) => a.ms - b.ms);
      const json = bucketsJson(rows, aggregates, createBucketTimeFormatter());
      return json === asObjects(rows, aggregates);
    }),
    { numRuns: 2_000 },
  );
  t.equal(bucketsJson([], ['avg'], createBucketTimeFormatter()), '[]', 'no buckets: an empty array');
  t.same(JSON.parse(bucketsJson([{ ms: 60_000, count: 4, sum: 10, min: 1, max: 4, last: 2, wide_avg: null }], ['max', 'avg', 'count'], createBucketTimeFormatter())), [
    { ts: '1970-01-01T00:01:00.000Z', max: 4, avg: 2.5, count: 4 },
  ]);
  t.same(JSON.parse(bucketsJson([{ ms: 0, count: 2, sum: Infinity, min: 1e300, max: 1e300, last: 1e300, wide_avg: 1e300 }], ['sum', 'avg'], createBucketTimeFormatter())), [
    { ts: '1970-01-01T00:00:00.000Z', sum: null, avg: 1e300 },
  ], 'a sum beyond a double is null; its average is the one PostgreSQL gave');
});

t.test('an aggregate that is not a number is refused, as the serializer refused it', async (t) => {
  t.throws(() => bucketsJson([{ ms: 0, count: 0, sum: 0, min: 0, max: 0, last: 0, wide_avg: null }], ['avg'], createBucketTimeFormatter()), /NaN/);
});
