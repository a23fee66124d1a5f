import type { Queryable } from '@strata/core';

// The batches strong reads of one tenant wait for (decision 0104): staged (acknowledged: a 202 or
// PUBACK follows the staging commit) and not applied; a staged row of an applied batch is a leftover
// the sweeper deletes. One statement for every read of the tenant that queued for it: the whole
// tenant when one of them reads tenant-wide ($2), else the devices asked for ($3). The rows read are
// bounded ($4): past it the caller refuses instead of reading a backlog whole. Sent unnamed, so each
// run is planned for its own tenant: a plan cached for a tenant with a large backlog (a parallel scan
// of staging) would scan the whole table for every other tenant too (hostile review). applied_batches
// is probed once per distinct batch, by its key (a scalar subquery: never a hash of the whole table).
const SQL = `
WITH r AS MATERIALIZED (
  SELECT device, batch_id FROM staging_events
   WHERE tenant_id = $1 AND ($2::boolean OR device = ANY($3::text[]))
   LIMIT $4
), d AS (
  -- The device only where a read asked for it: rows of other devices collapse to one per batch.
  SELECT DISTINCT CASE WHEN device = ANY($3::text[]) THEN device END AS device, batch_id FROM r
)
SELECT c.rows, p.device, p.batch_id
  FROM (SELECT count(*)::int AS rows FROM r) c
  LEFT JOIN (SELECT d.device, d.batch_id::text AS batch_id FROM d
              -- Too many rows: the answer is thrown away, so no batch is grouped or looked up (the
              -- first condition holds no column: PostgreSQL tests it once, before the rest runs).
              WHERE (SELECT count(*) FROM r) < $4
                AND (SELECT 1 FROM applied_batches a WHERE a.batch_id = d.batch_id LIMIT 1) IS NULL) p ON true`;

// A token's batch, when it is the tenant's, staged and not applied. A token names any uuid: one this
// node never staged (forged, or truncated from UNLOGGED staging by a crash) is not waited for.
const TOKEN_SQL = `
  SELECT s.batch_id::text AS batch_id
    FROM staging_events s
   WHERE s.batch_id = $1::uuid AND s.tenant_id = $2
     AND (SELECT 1 FROM applied_batches a WHERE a.batch_id = s.batch_id LIMIT 1) IS NULL
   LIMIT 1`;

export interface StagedBatches {
  /** The staged rows read reached the bound: the lists below may be incomplete. */
  truncated: boolean;
  /** Every pending batch of the tenant (only when asked for the whole tenant). */
  tenant: string[];
  /** Pending batches per device asked for. */
  byDevice: Map<string, string[]>;
}

/** The tenant's pending batches, whole or for `devices`; truncated when more than `maxRows` staged rows match. */
export async function selectPendingBatches(db: Queryable, tenantId: string, wholeTenant: boolean, devices: string[], maxRows: number): Promise<StagedBatches> {
  const result = await db.query<{ rows: number; device: string | null; batch_id: string | null }>({
    text: SQL,
    values: [tenantId, wholeTenant, devices, maxRows + 1],
  });
  const tenant = new Set<string>();
  const byDevice = new Map<string, string[]>();
  for (const row of result.rows) {
    if (row.batch_id === null) continue;
    tenant.add(row.batch_id);
    if (row.device === null) continue;
    const list = byDevice.get(row.device);
    if (list) list.push(row.batch_id);
    else byDevice.set(row.device, [row.batch_id]);
  }
  return { truncated: (result.rows[0]?.rows ?? 0) > maxRows, tenant: wholeTenant ? [...tenant] : [], byDevice };
}

/** The token's batch when it is this tenant's, staged and not yet applied; else nothing to wait for. */
export async function selectPendingTokenBatch(db: Queryable, tenantId: string, batchId: string): Promise<string[]> {
  const result = await db.query<{ batch_id: string }>({ name: 'query-select-pending-token-batch', text: TOKEN_SQL, values: [batchId, tenantId] });
  return result.rows.map((row) => row.batch_id);
}
