import fc from 'fast-check';
import t from 'tap';
import { GROUP_AGGREGATES } from '../src/params/parse-group-params.ts';
import { bucketsJsonSql } from '../src/queries/buckets-json-sql.ts';
import { buildTestApp } from './helpers.ts';

/*
 * The buckets PostgreSQL writes (decision 0103) against what the routes sent before: an object per
 * bucket, ts first as toISOString writes it, then the aggregates in the order asked, numbers as
 * JSON.stringify writes them (an infinity as null), the average from the exact sum where the sum is
 * beyond a double. PostgreSQL may write a number in another notation (1e-05 for 0.00001): the check
 * is that every number reads back as the same double, so the answers parse to the same values.
 */
interface Bucket {
  ms: number;
  count: number;
  sum: number;
  min: number;
  max: number;
  last: number;
  wide_avg: number | null;
  devices: number | null;
}

const STATEMENT = `SELECT ${bucketsJsonSql('$1::text[]', GROUP_AGGREGATES)} AS buckets
  FROM unnest($2::float8[], $3::float8[], $4::float8[], $5::float8[], $6::float8[], $7::float8[], $8::float8[], $9::int[])
    AS b(ms, count, sum, min, max, last, wide_avg, devices),
  LATERAL (SELECT to_timestamp(ms / 1000) AS bucket) t`;

function oracle(buckets: Bucket[], aggregates: readonly string[]): string {
  const sorted = [...buckets].sort((a, b) => a.ms - b.ms);
  return JSON.stringify(
    sorted.map((bucket) => {
      const out: Record<string, string | number | null> = { ts: new Date(bucket.ms).toISOString() };
      for (const name of aggregates) {
        const n = name === 'avg' ? (bucket.wide_avg ?? bucket.sum / bucket.count) : (bucket[name as keyof Bucket] as number | null);
        out[name] = n === null || !Number.isFinite(n) ? null : n;
      }
      return out;
    }),
  );
}

const number = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e300, max: 1e300 }),
  fc.integer(),
  fc.constantFrom(0, 1e-5, 1e-7, 1e15, 1e21, 123456789012345680000, 5e-324, -5e-324, 1e-323, 1.5e-323, -2.5e-323, 1e-310, 1e300, -1e300),
);
const bucket = fc.record({
  // Whole minutes of the years events may have (1970–9999).
  ms: fc.integer({ min: 0, max: 4_102_444_800 }).map((minute) => minute * 60_000),
  count: fc.oneof(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 2 ** 40 })),
  sum: fc.oneof(number, fc.constantFrom(Infinity, -Infinity)),
  min: number,
  max: number,
  last: number,
  wide_avg: fc.option(number, { nil: null }),
  devices: fc.option(fc.integer({ min: 0, max: 1_000_000 }), { nil: null }),
});

t.test('PostgreSQL writes the buckets as the routes did, for any numbers and any aggregates in any order', async (t) => {
  const { deps } = await buildTestApp(t);
  const ask = async (buckets: Bucket[], aggregates: readonly string[]): Promise<string> => {
    const column = (name: keyof Bucket) => buckets.map((b) => b[name]);
    const result = await deps.pool.query<{ buckets: string }>({
      name: 'buckets-json-sql-test',
      text: STATEMENT,
      values: [aggregates, column('ms'), column('count'), column('sum'), column('min'), column('max'), column('last'), column('wide_avg'), column('devices')],
    });
    return (result.rows[0] as { buckets: string }).buckets;
  };

  await fc.assert(
    fc.asyncProperty(fc.array(bucket, { maxLength: 30 }), fc.uniqueArray(fc.constantFrom(...GROUP_AGGREGATES), { minLength: 1 }), async (buckets, aggregates) => {
      const text = await ask(buckets, aggregates);
      // The same values, in the same order, whatever notation: JSON.stringify writes each double one way.
      return JSON.stringify(JSON.parse(text)) === oracle(buckets, aggregates);
    }),
    { numRuns: 300 },
  );

  t.equal(await ask([], ['avg']), '[]', 'no buckets: an empty array');
  t.equal(
    await ask([{ ms: 60_000, count: 4, sum: 10, min: 1, max: 4, last: 2.5, wide_avg: null, devices: 3 }], ['max', 'avg', 'count', 'devices', 'last']),
    '[{"ts":"1970-01-01T00:01:00.000Z","max":4,"avg":2.5,"count":4,"devices":3,"last":2.5}]',
    'ordinary numbers are written as JavaScript writes them, byte for byte, in the order asked',
  );
  t.equal(
    await ask([{ ms: 253_402_214_400_000, count: 2, sum: Infinity, min: 1e300, max: 1e300, last: 1e300, wide_avg: 1e300, devices: null }], ['sum', 'avg', 'min']),
    '[{"ts":"9999-12-31T00:00:00.000Z","sum":null,"avg":1e+300,"min":1e+300}]',
    'a sum beyond a double is null and the average is the exact one; the last day of year 9999 is written as toISOString does',
  );
  t.equal(
    await ask([{ ms: 0, count: 1, sum: 0.00001, min: 1e-7, max: 1e15, last: 0, wide_avg: null, devices: null }], ['sum', 'min', 'max']),
    '[{"ts":"1970-01-01T00:00:00.000Z","sum":1e-05,"min":1e-07,"max":1e+15}]',
    "PostgreSQL's notation at small and large magnitudes: the same doubles as JavaScript's 0.00001, 1e-7, 1000000000000000",
  );
  t.equal(
    await ask(
      [
        { ms: 0, count: 2, sum: 5e-324, min: 0, max: 5e-324, last: 0, wide_avg: null, devices: null },
        { ms: 60_000, count: 2, sum: 1.5e-323, min: 5e-324, max: 1e-323, last: 1e-323, wide_avg: null, devices: null },
      ],
      ['avg'],
    ),
    '[{"ts":"1970-01-01T00:00:00.000Z","avg":0},{"ts":"1970-01-01T00:01:00.000Z","avg":1e-323}]',
    "an average that rounds to zero (5e-324 and 0) is 0, not PostgreSQL's underflow error; a tie (1.5e-323 / 2) rounds to even",
  );
  t.equal(
    await ask([{ ms: 0, count: 1, sum: Number.NaN, min: 1, max: 1, last: 1, wide_avg: null, devices: null }], ['sum']),
    '[{"ts":"1970-01-01T00:00:00.000Z","sum":null}]',
    'NaN, which no bucket holds, would still be written as valid JSON',
  );
});
