import type { Queryable } from '@strata/core';

// The batches a read that must reflect every acknowledged event waits for: staged (acknowledged: a 202
// or PUBACK follows the staging commit) and not applied. A staged row of an applied batch is a
// leftover the sweeper deletes, so it is never waited for. Staging's (tenant_id, device) index finds
// the rows; applied_batches is probed once per batch, not per row (a batch holds up to thousands);
// LIMIT keeps a huge backlog from costing a huge answer (the caller refuses past it).
const DEVICE_SQL = `
  SELECT d.batch_id::text AS batch_id
    FROM (SELECT DISTINCT batch_id FROM staging_events WHERE tenant_id = $1 AND device = $2) d
   WHERE NOT EXISTS (SELECT 1 FROM applied_batches a WHERE a.batch_id = d.batch_id)
   LIMIT $3`;

const TENANT_SQL = `
  SELECT d.batch_id::text AS batch_id
    FROM (SELECT DISTINCT batch_id FROM staging_events WHERE tenant_id = $1) d
   WHERE NOT EXISTS (SELECT 1 FROM applied_batches a WHERE a.batch_id = d.batch_id)
   LIMIT $2`;

// A token's batch, when it is the tenant's, staged and not applied. A token names any uuid: one this
// node never staged (forged, or truncated from UNLOGGED staging by a crash) is not waited for.
const TOKEN_SQL = `
  SELECT s.batch_id::text AS batch_id
    FROM staging_events s
   WHERE s.batch_id = $1::uuid AND s.tenant_id = $2
     AND NOT EXISTS (SELECT 1 FROM applied_batches a WHERE a.batch_id = s.batch_id)
   LIMIT 1`;

/** The tenant's (or one device's) staged batches not yet applied, at most `limit`. */
export async function selectPendingBatches(db: Queryable, tenantId: string, device: string | undefined, limit: number): Promise<string[]> {
  const result =
    device === undefined
      ? await db.query<{ batch_id: string }>({ name: 'query-select-pending-batches-tenant', text: TENANT_SQL, values: [tenantId, limit] })
      : await db.query<{ batch_id: string }>({ name: 'query-select-pending-batches-device', text: DEVICE_SQL, values: [tenantId, device, limit] });
  return result.rows.map((row) => row.batch_id);
}

/** The token's batch when it is this tenant's, staged and not yet applied; else nothing to wait for. */
export async function selectPendingTokenBatch(db: Queryable, tenantId: string, batchId: string): Promise<string[]> {
  const result = await db.query<{ batch_id: string }>({ name: 'query-select-pending-token-batch', text: TOKEN_SQL, values: [batchId, tenantId] });
  return result.rows.map((row) => row.batch_id);
}
