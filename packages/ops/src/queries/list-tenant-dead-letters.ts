import type { Queryable } from '@strata/core';

// One tenant's dead letters, keyset-paged by id (the (tenant_id, id) index). The stored event is cut
// to EVENT_EXCERPT characters: enough to see what was refused, never a multi-kilobyte answer per row.
const SQL = `
  SELECT id::text, device, to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS ts,
         sqlstate, reason, failures,
         left(event, $4::int) AS event, length(event) > $4::int AS event_truncated,
         to_char(first_failed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS failed_at,
         to_char(last_failed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS last_failed_at
    FROM dead_letters
   WHERE tenant_id = $1::uuid AND id > $2::bigint
   ORDER BY id
   LIMIT $3::int`;

const EVENT_EXCERPT = 1000;

interface Row {
  id: string;
  device: string;
  ts: string | null;
  sqlstate: string;
  reason: string;
  failures: number;
  event: string;
  event_truncated: boolean;
  failed_at: string;
  last_failed_at: string;
}

/** A tenant's dead letter as the status page lists it: the tenant is the caller's, so not repeated. */
export interface TenantDeadLetter {
  id: string;
  device: string;
  ts: string | null;
  reason: string;
  sqlstate: string;
  failures: number;
  /** The refused event's JSON text, first EVENT_EXCERPT characters. */
  event: string;
  eventTruncated: boolean;
  failedAt: string;
  lastFailedAt: string;
}

/** `tenantId`'s dead letters with id above `afterId`, oldest first. */
export async function listTenantDeadLetters(db: Queryable, tenantId: string, afterId: string, limit: number): Promise<TenantDeadLetter[]> {
  const result = await db.query<Row>({ name: 'list-tenant-dead-letters', text: SQL, values: [tenantId, afterId, limit, EVENT_EXCERPT] });
  return result.rows.map((row) => ({
    id: row.id,
    device: row.device,
    ts: row.ts,
    reason: row.reason,
    sqlstate: row.sqlstate,
    failures: row.failures,
    event: row.event,
    eventTruncated: row.event_truncated,
    failedAt: row.failed_at,
    lastFailedAt: row.last_failed_at,
  }));
}
