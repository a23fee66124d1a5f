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

/**
 * What a range's counts are computed from, as one text (decision 0103): how many notes of the tenant
 * and counter rows of the level the range holds, and an order-free 64-bit hash of each row's xmin and
 * key (bit_xor: no sort, so no spill to temp files over a wide range; hostile review). A drain that adds
 * to the tenant's history notes each minute it writes in its own transaction (a new note row), and the
 * refresh that deletes a note rewrites the minute's counters and its hour's in its own (counts only
 * grow, so the rows it writes change): while the text is the same, so are the range's counts, for every
 * type. A changed row changes its xmin and so, but for a 2^-64 chance, the hash.
 */
const countsTag = (table: string, tenant: string, from: string, to: string): string => `(
  (SELECT count(*) || ':' || coalesce(bit_xor(${rowHash('d')}), 0)
     FROM aggregate_dirty d WHERE d.tenant_id = ${tenant} AND d.bucket >= ${from}::timestamptz AND d.bucket < ${to}::timestamptz)
  || '|' ||
  (SELECT count(*) || ':' || coalesce(bit_xor(hashtextextended(c.type, ${rowHash('c')})), 0)
     FROM ${table} c WHERE c.tenant_id = ${tenant} AND c.bucket >= ${from}::timestamptz AND c.bucket < ${to}::timestamptz))`;

/**
 * A row's xmin hashed with its bucket: the key must be in the hash, or two rows one transaction
 * rewrote (the same xmin) would cancel out of the XOR. Integer hashes, not text: timestamptz output
 * per row cost more than the hash (43k counter rows, 2026-12-02).
 */
const rowHash = (alias: string): string => `hashint8extended(${alias}.xmin::text::bigint, extract(epoch FROM ${alias}.bucket)::bigint)`;

const statement = (table: string, width: string, passThrough: boolean, typed: boolean, tagged: boolean): string => {
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
SELECT date_part('epoch', bucket) * 1000 AS ms, type, count::float8 AS count, NULL::text AS counts_tag
  FROM (${passThrough ? 'SELECT bucket, type, count FROM stored UNION ALL ' : ''}SELECT * FROM combined) answer
UNION ALL
-- What these counts were computed from, in this snapshot, as a row without a bucket (decision 0103).
SELECT NULL, NULL, NULL, ${tagged ? countsTag(table, '$1', '$3', '$4') : 'NULL::text'}
 ORDER BY ms NULLS LAST, type`;
};

const LEVELS: [interval: string, name: string, table: string, width: string, passThrough: boolean][] = [
  ['1 minute', 'query-counts-1m', 'event_counts_1m', '1 minute', true],
  ['5 minutes', 'query-counts-5m', 'event_counts_1m', '1 minute', false],
  ['15 minutes', 'query-counts-15m', 'event_counts_1m', '1 minute', false],
  ['1 hour', 'query-counts-1h', 'event_counts_1h', '1 hour', true],
  ['1 day', 'query-counts-1d', 'event_counts_1h', '1 hour', false],
];

/** The counter table each interval reads: its rows are what the interval's tag covers. */
const TAG_TABLES = new Map(LEVELS.map(([interval, , table]) => [interval, table]));

/**
 * Statement per interval, with and without the type filter, from a fixed list: table names never
 * come from the request. Two texts rather than `$5 IS NULL OR type = $5`, which only a custom plan
 * could fold away.
 */
const STATEMENTS = new Map(
  LEVELS.flatMap(([interval, name, table, width, passThrough]) =>
    [false, true].flatMap((tagged) => {
      const suffix = tagged ? '-tagged' : '';
      return [
        [`${interval}/all/${tagged}`, { name: `${name}${suffix}`, text: statement(table, width, passThrough, false, tagged) }],
        [`${interval}/typed/${tagged}`, { name: `${name}-typed${suffix}`, text: statement(table, width, passThrough, true, tagged) }],
      ] as const;
    }),
  ),
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

export interface EventCounts {
  rows: EventCountRow[];
  /** What the counts were computed from, as the statement's snapshot saw it (countsTag); 'none' when not asked for. */
  tag: string;
}

/** `tagged`: also compute the tag (only for an answer that will be kept: it reads the range's rows again). */
export async function selectEventCounts(db: Queryable, query: SelectEventCountsQuery, tagged = false): Promise<EventCounts> {
  const statement = STATEMENTS.get(`${query.interval}/${query.type === undefined ? 'all' : 'typed'}/${tagged}`);
  if (!statement) throw new Error(`no counter level for interval ${query.interval}`);
  const result = await db.query<EventCountRow & { counts_tag: string | null }>({
    name: statement.name,
    text: statement.text,
    values: query.type === undefined ? [query.tenantId, query.interval, query.from, query.to] : [query.tenantId, query.interval, query.from, query.to, query.type],
  });
  const rows = result.rows;
  // The last row is the one without a bucket; it carries only the tag.
  const tagRow = rows.pop();
  return { rows, tag: tagRow?.counts_tag ?? 'none' };
}

/** The tag selectEventCounts would return for the range, as a snapshot taken now sees it. */
export async function selectEventCountsTag(db: Queryable, query: Omit<SelectEventCountsQuery, 'type'>): Promise<string> {
  const table = TAG_TABLES.get(query.interval);
  if (!table) throw new Error(`no counter level for interval ${query.interval}`);
  const result = await db.query<{ counts_tag: string }>({
    name: `query-counts-tag-${table}`,
    text: `SELECT ${countsTag(table, '$1', '$2', '$3')} AS counts_tag`,
    values: [query.tenantId, query.from, query.to],
  });
  return result.rows[0]?.counts_tag ?? 'none';
}
