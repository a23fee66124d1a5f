import type { Pool } from '@strata/core';

export interface JobTicks {
  name: string;
  ticks: number;
  jobs: number;
  completed: number;
  retried: number;
}

/**
 * Per maintenance job: the minute ticks pg-boss scheduled it for (its singleton slot, or creation
 * minute), how many job rows those ticks produced, and how many completed or ran more than once.
 * The last tick may still be running when the processes stop, so it can lack a completion.
 */
export async function jobRunsPerTick(pool: Pool): Promise<JobTicks[]> {
  const result = await pool.query<JobTicks>(`
    SELECT name,
           count(DISTINCT date_trunc('minute', coalesce(singleton_on AT TIME ZONE 'UTC', created_on)))::int AS ticks,
           count(*)::int AS jobs,
           count(*) FILTER (WHERE state = 'completed')::int AS completed,
           count(*) FILTER (WHERE retry_count > 0)::int AS retried
      FROM pgboss.job
     WHERE name LIKE 'strata-%'
     GROUP BY name
     ORDER BY name`);
  return result.rows;
}

/** Daily partitions missing for today … +7 days (UTC). */
export async function countMissingPartitions(pool: Pool): Promise<number> {
  const result = await pool.query<{ missing: number }>(`
    SELECT count(*)::int AS missing
      FROM generate_series(0, 7) AS d(offset_days)
     WHERE to_regclass('events_' || to_char((now() AT TIME ZONE 'UTC')::date + d.offset_days, 'YYYYMMDD')) IS NULL`);
  return result.rows[0]?.missing ?? 0;
}
