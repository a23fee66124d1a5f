import type { Queryable } from '@strata/core';

// Keyset pages by id, so a long listing never holds a snapshot or an offset scan.
const SQL = `
  SELECT id::text, tenant_id, device, to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS ts,
         sqlstate, reason, failures, batch_id,
         to_char(first_failed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS failed_at,
         to_char(last_failed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS last_failed_at
    FROM dead_letters
   WHERE id > $1::bigint
   ORDER BY id
   LIMIT $2::int`;

interface Row {
  id: string;
  tenant_id: string;
  device: string;
  ts: string | null;
  sqlstate: string;
  reason: string;
  failures: number;
  batch_id: string;
  failed_at: string;
  last_failed_at: string;
}

/** One dead letter as `ops dlq list` prints it (one JSON line each). */
export interface DeadLetterListing {
  id: string;
  tenant: string;
  device: string;
  /** The event's time; null when PostgreSQL could not hold it (that was the refusal). */
  ts: string | null;
  reason: string;
  sqlstate: string;
  failures: number;
  batchId: string;
  failedAt: string;
  lastFailedAt: string;
}

/** Dead letters with id above `afterId`, oldest first. */
export async function listDeadLetters(db: Queryable, afterId: string, limit: number): Promise<DeadLetterListing[]> {
  const result = await db.query<Row>({ name: 'list-dead-letters', text: SQL, values: [afterId, limit] });
  return result.rows.map((row) => ({
    id: row.id,
    tenant: row.tenant_id,
    device: row.device,
    ts: row.ts,
    reason: row.reason,
    sqlstate: row.sqlstate,
    failures: row.failures,
    batchId: row.batch_id,
    failedAt: row.failed_at,
    lastFailedAt: row.last_failed_at,
  }));
}
