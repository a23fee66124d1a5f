import type { Pool } from '@strata/core';

/**
 * The series straight from history and label_versions: what every read must equal. `skip`: events in
 * [skip.from, skip.to) (epoch ms) left out, as a read answered as of a head leaves its tail out.
 */
export async function groupSeriesOracle(
  pool: Pool,
  tenant: string,
  value: string,
  width: string,
  from: string,
  to: string,
  skip?: { from: number; to: number },
): Promise<Record<string, number | string>[]> {
  const result = await pool.query<{ ms: number; count: number; sum: number; min: number; max: number; last: number; devices: number }>(
    `SELECT date_part('epoch', date_bin($3::interval, e.ts, TIMESTAMPTZ '1970-01-01 00:00:00+00')) * 1000 AS ms,
            count(*)::float8 AS count, sum((e."values" -> 'v')::numeric)::float8 AS sum,
            min((e."values" -> 'v')::float8) AS min, max((e."values" -> 'v')::float8) AS max,
            (array_agg((e."values" -> 'v')::float8 ORDER BY e.ts DESC, (e."values" -> 'v')::float8 DESC))[1] AS last,
            count(DISTINCT e.device)::int AS devices
       FROM tenant_events e
       JOIN label_versions l ON l.tenant_id = e.tenant_id AND l.device = e.device AND l.label = 'team' AND l.value = $2
                            AND l.valid_from <= e.ts AND e.ts < l.valid_to
      WHERE e.tenant_id = $1 AND jsonb_typeof(e."values" -> 'v') = 'number'
        AND e.ts >= date_bin($3::interval, $4::timestamptz, TIMESTAMPTZ '1970-01-01 00:00:00+00') AND e.ts < $5::timestamptz
        AND NOT (e.ts >= $6::timestamptz AND e.ts < $7::timestamptz)
      GROUP BY 1 ORDER BY 1`,
    [tenant, value, width, from, to, new Date(skip?.from ?? 0).toISOString(), new Date(skip?.to ?? 0).toISOString()],
  );
  return result.rows.map((row) => ({
    ts: new Date(row.ms).toISOString(),
    count: row.count,
    sum: row.sum,
    min: row.min,
    max: row.max,
    last: row.last,
    avg: row.sum / row.count,
    devices: row.devices,
  }));
}
