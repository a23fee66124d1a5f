import type { Queryable } from '@strata/core';

const SQL = `
  SELECT count(*)::bigint AS events,
         count(DISTINCT batch_id)::bigint AS batches,
         (extract(epoch FROM clock_timestamp() - min(received_at)) * 1000)::float8 AS oldest_age_ms
    FROM staging_events`;

interface Row {
  events: string;
  batches: string;
  oldest_age_ms: number | null;
}

export interface StagingBacklog {
  events: number;
  batches: number;
  /** Age of the oldest staged event; null when staging is empty. */
  oldestAgeMs: number | null;
}

/** Accepted events not yet projected (staging is small by design: batches leave it on flush). */
export async function countStagingBacklog(db: Queryable): Promise<StagingBacklog> {
  const result = await db.query<Row>({ name: 'count-staging-backlog', text: SQL });
  const row = result.rows[0] as Row;
  return {
    events: Number(row.events),
    batches: Number(row.batches),
    oldestAgeMs: row.oldest_age_ms === null ? null : Math.max(0, Math.round(row.oldest_age_ms)),
  };
}
