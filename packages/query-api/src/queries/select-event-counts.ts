import type { Queryable } from '@strata/core';

/*
 * Tenant-wide event counts per bucket and type, exact and as fresh as history (decision 0060), in one
 * statement: the counter level that divides the interval (event_counts_1m for 1m/5m/15m,
 * event_counts_1h for 1h/1d) for buckets holding no noted (dirty) minute of the tenant (`held`: the
 * level's buckets that do); for an hour
 * that holds one, its other minutes from event_counts_1m; and the noted minutes themselves counted
 * from history (the BRIN index on events.ts finds them). Buckets are aligned to the Unix epoch in
 * UTC.
 *
 * When the level's bucket is the interval (1m, 1h), a stored count is already the answer for its
 * bucket and type and goes out as it is; only buckets holding a noted minute are summed. Buckets go
 * out as epoch milliseconds (float8), formatted by the route (decision 0065). The parts read per held
 * bucket and noted minute are LATERAL subqueries kept apart by OFFSET 0, one range scan each: as
 * joins, a custom plan could scan the whole range of the tenant's history once and filter it against
 * every noted minute. History is bounded by the noted minute alone, not by the range as well, so the
 * generic plan is as cheap as a custom one and is kept (partitions pruned at run time): with the
 * range's bounds every call was planned anew (0.4 ms).
 */
const EPOCH = `TIMESTAMPTZ '1970-01-01 00:00:00+00'`;
const statement = (table: string, width: string, passThrough: boolean, typed: boolean): string => {
  const ofType = (alias: string): string => (typed ? ` AND ${alias}.type = $5::text` : '');
  return `
WITH dirty AS (
  SELECT DISTINCT bucket FROM aggregate_dirty
   WHERE tenant_id = $1 AND bucket >= $3::timestamptz AND bucket < $4::timestamptz
), held AS (
  SELECT DISTINCT date_bin('${width}', bucket, ${EPOCH}) AS bucket FROM dirty
), stored AS (
  SELECT c.bucket, c.type, c.count
    FROM ${table} c
   WHERE c.tenant_id = $1 AND c.bucket >= $3::timestamptz AND c.bucket < $4::timestamptz${ofType('c')}
     AND c.bucket NOT IN (SELECT bucket FROM held)
), minutes AS (
  SELECT m.bucket, m.type, m.count
    FROM held h
   CROSS JOIN LATERAL (
     SELECT bucket, type, count FROM event_counts_1m c
      WHERE '${width}' <> '1 minute' AND c.tenant_id = $1 AND c.bucket >= h.bucket AND c.bucket < h.bucket + interval '${width}'${ofType('c')}
     OFFSET 0
   ) m
   WHERE NOT EXISTS (SELECT 1 FROM dirty d WHERE d.bucket = m.bucket)
), live AS (
  SELECT d.bucket, e.type, count(*) AS count
    FROM dirty d
   CROSS JOIN LATERAL (
     SELECT type FROM tenant_events e
      WHERE e.tenant_id = $1 AND e.ts >= d.bucket AND e.ts < d.bucket + interval '1 minute'${ofType('e')}
     OFFSET 0
   ) e
   GROUP BY 1, 2
), combined AS (
  SELECT date_bin($2::interval, bucket, ${EPOCH}) AS bucket, type, sum(count) AS count
    FROM (${passThrough ? '' : 'SELECT * FROM stored UNION ALL '}SELECT * FROM minutes UNION ALL SELECT * FROM live) parts
   GROUP BY 1, 2
)
SELECT date_part('epoch', bucket) * 1000 AS ms, type, count::float8 AS count
  FROM (${passThrough ? 'SELECT bucket, type, count FROM stored UNION ALL ' : ''}SELECT * FROM combined) answer
 ORDER BY bucket, type`;
};

const LEVELS: [interval: string, name: string, table: string, width: string, passThrough: boolean][] = [
  ['1 minute', 'query-counts-1m', 'event_counts_1m', '1 minute', true],
  ['5 minutes', 'query-counts-5m', 'event_counts_1m', '1 minute', false],
  ['15 minutes', 'query-counts-15m', 'event_counts_1m', '1 minute', false],
  ['1 hour', 'query-counts-1h', 'event_counts_1h', '1 hour', true],
  ['1 day', 'query-counts-1d', 'event_counts_1h', '1 hour', false],
];

/**
 * Statement per interval, with and without the type filter, from a fixed list: table names never
 * come from the request. Two texts rather than `$5 IS NULL OR type = $5`, which only a custom plan
 * could fold away.
 */
const STATEMENTS = new Map(
  LEVELS.flatMap(([interval, name, table, width, passThrough]) => [
    [`${interval}/all`, { name, text: statement(table, width, passThrough, false) }],
    [`${interval}/typed`, { name: `${name}-typed`, text: statement(table, width, passThrough, true) }],
  ]),
);

export interface EventCountRow {
  /** The bucket's start, epoch milliseconds. */
  ms: number;
  type: string;
  count: number;
}

export interface SelectEventCountsQuery {
  tenantId: string;
  /** A PostgreSQL interval, e.g. '5 minutes'. */
  interval: string;
  /** Bucket-aligned bounds, ISO-8601; from inclusive, to exclusive. */
  from: string;
  to: string;
  type: string | undefined;
}

export async function selectEventCounts(db: Queryable, query: SelectEventCountsQuery): Promise<EventCountRow[]> {
  const statement = STATEMENTS.get(`${query.interval}/${query.type === undefined ? 'all' : 'typed'}`);
  if (!statement) throw new Error(`no counter level for interval ${query.interval}`);
  const result = await db.query<EventCountRow>({
    name: statement.name,
    text: statement.text,
    values: query.type === undefined ? [query.tenantId, query.interval, query.from, query.to] : [query.tenantId, query.interval, query.from, query.to, query.type],
  });
  return result.rows;
}
