import type { Queryable } from '@strata/core';

// applied_batches has one row per projected batch and an index on applied_at, so both windows and
// the newest batch are index range scans however long the table has grown. Ages by the server's clock.
const SQL = `
  SELECT coalesce(sum(event_count) FILTER (WHERE applied_at > clock_timestamp() - interval '10 seconds'), 0)::bigint AS events_10s,
         coalesce(sum(event_count), 0)::bigint AS events_60s,
         coalesce(sum(inserted), 0)::bigint AS inserted_60s,
         count(*)::bigint AS batches_60s,
         (SELECT (extract(epoch FROM clock_timestamp() - max(applied_at)) * 1000)::float8 FROM applied_batches) AS last_applied_age_ms
    FROM applied_batches
   WHERE applied_at > clock_timestamp() - interval '60 seconds'`;

interface Row {
  events_10s: string;
  events_60s: string;
  inserted_60s: string;
  batches_60s: string;
  last_applied_age_ms: number | null;
}

export interface ApplyRate {
  /** Events in batches the projector applied in the last 10 s and 60 s (re-sent ones included). */
  events10s: number;
  events60s: number;
  /** Of those, events new to history in the last 60 s (a re-sent event is applied but not inserted). */
  inserted60s: number;
  batches60s: number;
  /** Since the newest batch was applied; null before the first. */
  lastAppliedAgeMs: number | null;
}

/** How fast acknowledged events become visible: the projector's applied batches over the last minute. */
export async function readApplyRate(db: Queryable): Promise<ApplyRate> {
  const result = await db.query<Row>({ name: 'read-apply-rate', text: SQL });
  const row = result.rows[0] as Row;
  return {
    events10s: Number(row.events_10s),
    events60s: Number(row.events_60s),
    inserted60s: Number(row.inserted_60s),
    batches60s: Number(row.batches_60s),
    lastAppliedAgeMs: row.last_applied_age_ms === null ? null : Math.max(0, Math.round(row.last_applied_age_ms)),
  };
}
