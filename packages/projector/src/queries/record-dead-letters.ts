import type { Queryable } from '@strata/core';

// The event's time is stored only when timestamptz can hold it: an event whose time is what
// PostgreSQL refused must still be recorded. A refused event already recorded (a retry refused
// again, or the same event in another batch) keeps its row and first failure, with the new reason.
const SQL = `
  INSERT INTO dead_letters AS d (event_digest, batch_id, last_batch_id, tenant_id, device, ts, event, sqlstate, reason)
  SELECT u.digest, $1, $1, u.tenant_id, u.device,
         CASE WHEN u.ms BETWEEN -2.1e14 AND 8.2e15 THEN to_timestamp(u.ms / 1000.0) END,
         u.event, u.sqlstate, u.reason
    FROM unnest($2::text[], $3::uuid[], $4::text[], $5::float8[], $6::text[], $7::text[], $8::text[])
      AS u(digest, tenant_id, device, ms, event, sqlstate, reason)
  ON CONFLICT (event_digest) DO UPDATE SET
    last_batch_id = excluded.last_batch_id,
    sqlstate = excluded.sqlstate,
    reason = excluded.reason,
    failures = d.failures + 1,
    last_failed_at = now()`;

export interface DeadLetterRow {
  digest: string;
  tenantId: string;
  device: string;
  ms: number;
  /** The whole event as JSON text (what `ops dlq retry` projects again). */
  event: string;
  sqlstate: string;
  reason: string;
}

/** Records refused events of batch `batchId`, one row per distinct event (digests must be unique). */
export async function recordDeadLetters(db: Queryable, batchId: string, rows: DeadLetterRow[]): Promise<void> {
  if (rows.length === 0) return;
  await db.query({
    name: 'record-dead-letters',
    text: SQL,
    values: [
      batchId,
      rows.map((row) => row.digest),
      rows.map((row) => row.tenantId),
      rows.map((row) => row.device),
      rows.map((row) => (Number.isFinite(row.ms) ? row.ms : null)),
      rows.map((row) => row.event),
      rows.map((row) => row.sqlstate),
      rows.map((row) => row.reason),
    ],
  });
}
