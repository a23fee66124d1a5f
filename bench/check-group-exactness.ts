import type { Pool } from '@strata/core';
import { GROUP_DEVICE_PATTERN, GROUP_START_MS, GROUP_VALUE_KEY, groupReading } from './load-group-history.ts';
import { SERIES_END_MS } from './load-series-device.ts';
import { ACTIVE_LABEL, ACTIVE_VALUE_KEY, activeLabelValue } from './label-active-group.ts';
import { activeLiveSeriesPath, GROUP_SERIES_END_MS, GROUP_SERIES_PATH, groupTotalInstant, groupTotalPath } from './measure-group-reads.ts';
import type { BenchStack } from './start-bench-stack.ts';

export interface GroupExactness {
  /** Series buckets and totals compared with plain SQL over history. */
  compared: number;
  /** One line per answer that differs from SQL (or did not come): empty when exact. */
  mismatches: string[];
  ok: boolean;
}

// The oracle: plain SQL over the group's devices' history rows, nothing of Strata's aggregates. Every
// reading of a g-… device carries the group's label from its first event on, so membership is the
// device name; `values` is the column (quoted: a keyword).
const ONLY_GROUP = `tenant_id = $1 AND device LIKE '${GROUP_DEVICE_PATTERN}' AND jsonb_typeof("values" -> $2) = 'number'`;
const BUCKETS_SQL = `SELECT (date_part('epoch', date_bin('1 hour', ts, TIMESTAMPTZ '1970-01-01 00:00:00+00')) * 1000)::float8 AS ms,
       count(*)::int AS count, sum(("values" ->> $2)::numeric)::text AS sum, count(DISTINCT device)::int AS devices
  FROM tenant_events WHERE ${ONLY_GROUP} AND ts >= $3 AND ts < $4 GROUP BY 1 ORDER BY 1`;
// The active group's oracle: membership from label_versions (its devices were labelled by the API
// during the bench, so the version's validity says which of their events count).
const ACTIVE_BUCKETS_SQL = `SELECT (date_part('epoch', date_bin('1 hour', e.ts, TIMESTAMPTZ '1970-01-01 00:00:00+00')) * 1000)::float8 AS ms,
       count(*)::int AS count, sum((e."values" ->> $2)::numeric)::text AS sum, count(DISTINCT e.device)::int AS devices
  FROM tenant_events e
  JOIN label_versions l ON l.tenant_id = e.tenant_id AND l.device = e.device AND l.label = '${ACTIVE_LABEL}' AND l.value = $5
                       AND l.valid_from <= e.ts AND e.ts < l.valid_to
 WHERE e.tenant_id = $1 AND jsonb_typeof(e."values" -> $2) = 'number' AND e.ts >= $3 AND e.ts < $4
 GROUP BY 1 ORDER BY 1`;
const TOTAL_SQL = `SELECT coalesce(sum(("values" ->> $2)::numeric), 0)::text AS sum FROM tenant_events WHERE ${ONLY_GROUP} AND ts <= $3`;


interface Bucket {
  ts: string;
  sum: number;
  avg: number;
  count: number;
  devices: number;
}

/**
 * Compares what the measured requests read with SQL over `events`: every bucket of the 24 h @ 1h group
 * series (count, sum, avg, devices, and no bucket missing or extra), the same of the active group's
 * series over the 24 h ending with the current hour (its members' events × their label versions), and the total at the first measured
 * instants, 1 ms before the group's history (0), at its end (everything), exactly at one reading's
 * time and 1 ms before it (`at` is inclusive). Sums compare exactly: both sides are numeric sums
 * rounded once to a double. Each mismatch prints `FAIL …` at once; the command then exits 1.
 */
export async function checkGroupExactness(stack: BenchStack, run: number, everyMinutes: number): Promise<GroupExactness> {
  const mismatches: string[] = [];
  const get = async (path: string): Promise<unknown> => {
    const response = await fetch(`${stack.urls['query-api']}${path}`, { headers: { authorization: `Bearer ${stack.apiKey}` } });
    const body = await response.text();
    if (response.status !== 200) throw new Error(`GET ${path} answered ${response.status}: ${body.slice(0, 200)}`);
    return JSON.parse(body);
  };
  let compared = 0;
  try {
    compared += await compareSeries(stack, (await get(GROUP_SERIES_PATH)) as { buckets: Bucket[] }, mismatches);
    // The active group after its members stopped and everything was projected (run-once settles
    // first), over the 24 whole hours ending with the current one: its last hours are still noted,
    // so this is the live path the measured reads took.
    const activeTo = Math.floor(Date.now() / 3_600_000) * 3_600_000 + 3_600_000;
    const activeFrom = activeTo - 86_400_000;
    // Strong: an eventual read may be answered as of the open minute's head (decision 0088), by design
    // short of the events after it; exact is what a strong read promises.
    const active = (await get(`${activeLiveSeriesPath(run)}&from=${new Date(activeFrom).toISOString()}&to=${new Date(activeTo).toISOString()}&consistency=strong`)) as { buckets: Bucket[] };
    const activeExpected = (await stack.db.query<OracleBucket>(ACTIVE_BUCKETS_SQL, [stack.tenant, ACTIVE_VALUE_KEY, new Date(activeFrom), new Date(activeTo), activeLabelValue(run)])).rows;
    compared += compareBuckets('active group series', active.buckets, activeExpected, mismatches);
    const reading = groupReading(7, 100, everyMinutes * 60_000).ts;
    const instants = [0, 1, 2, 3].map(groupTotalInstant).concat([GROUP_START_MS - 1, SERIES_END_MS, reading, reading - 1]);
    for (const at of instants) {
      const answer = (await get(groupTotalPath(at))) as { total: number; meta?: { exactAt?: string } };
      const oracle = Number((await stack.db.query<{ sum: string }>(TOTAL_SQL, [stack.tenant, GROUP_VALUE_KEY, new Date(at)])).rows[0]?.sum);
      if (answer.total !== oracle) mismatches.push(`total at ${new Date(at).toISOString()}: ${answer.total}, SQL ${oracle}`);
      if (answer.meta?.exactAt !== undefined) mismatches.push(`total at ${new Date(at).toISOString()}: exact only at ${answer.meta.exactAt} with raw history kept`);
      compared++;
    }
  } catch (error) {
    mismatches.push((error as Error).message);
  }
  for (const line of mismatches) process.stderr.write(`FAIL run ${run}: group reads differ from SQL: ${line}\n`);
  return { compared, mismatches, ok: mismatches.length === 0 && compared > 0 };
}

async function compareSeries(stack: BenchStack, answer: { buckets: Bucket[] }, mismatches: string[]): Promise<number> {
  const buckets = answer.buckets;
  if (!Array.isArray(buckets) || buckets.length === 0) {
    mismatches.push('group series: no buckets');
    return 0;
  }
  // The read asks for whole hours (GROUP_SERIES_END_MS is one), and so does the oracle.
  const endMs = GROUP_SERIES_END_MS;
  const startMs = endMs - 86_400_000;
  return compareBuckets('group series', buckets, await oracleBuckets(stack.db, stack.tenant, startMs, endMs), mismatches);
}

interface OracleBucket {
  ms: number;
  count: number;
  sum: string;
  devices: number;
}

/** Every bucket of `buckets` against SQL's (count, sum, avg, devices; none missing or extra); returns the buckets compared. */
function compareBuckets(read: string, buckets: Bucket[], expected: OracleBucket[], mismatches: string[]): number {
  if (!Array.isArray(buckets) || expected.length === 0) {
    mismatches.push(`${read}: ${Array.isArray(buckets) ? buckets.length : 'no'} buckets, SQL ${expected.length}: nothing to compare`);
    return 0;
  }
  if (expected.length !== buckets.length) mismatches.push(`${read}: ${buckets.length} buckets, SQL ${expected.length}`);
  for (const [i, want] of expected.entries()) {
    const got = buckets[i];
    const at = new Date(want.ms).toISOString();
    if (!got || Date.parse(got.ts) !== want.ms) {
      mismatches.push(`${read} bucket ${at}: answered ${got?.ts ?? 'none'} in its place`);
      continue;
    }
    const sum = Number(want.sum);
    for (const [name, value, oracle] of [['count', got.count, want.count], ['sum', got.sum, sum], ['avg', got.avg, sum / want.count], ['devices', got.devices, want.devices]] as const) {
      if (value !== oracle) mismatches.push(`${read} bucket ${at} ${name}: ${value}, SQL ${oracle}`);
    }
  }
  return expected.length;
}

async function oracleBuckets(db: Pool, tenant: string, startMs: number, endMs: number): Promise<OracleBucket[]> {
  const result = await db.query<OracleBucket>(BUCKETS_SQL, [tenant, GROUP_VALUE_KEY, new Date(startMs), new Date(endMs)]);
  return result.rows;
}
