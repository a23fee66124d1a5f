import type { BatchEvent, EventValues, Queryable } from '@strata/core';

// Event time back to the epoch milliseconds it was staged from: staging stored to_timestamp(ms / 1000),
// exact to the microsecond, so rounding recovers the very ts the history key was (or will be) built on.
const SQL = `
  SELECT tenant_id, device, event_key, round(extract(epoch FROM ts) * 1000)::float8 AS ms, type, "values"
    FROM staging_events
   WHERE batch_id = $1
   ORDER BY tenant_id, device, ts, event_key`;

interface Row {
  tenant_id: string;
  device: string;
  event_key: string;
  ms: number;
  type: string;
  values: EventValues;
}

/** A staged batch as the job payload carries it, to re-enqueue a batch whose job was lost. */
export async function selectStagedBatch(db: Queryable, batchId: string): Promise<BatchEvent[]> {
  const result = await db.query<Row>({ name: 'select-staged-batch', text: SQL, values: [batchId] });
  return result.rows.map((row) => ({
    tenantId: row.tenant_id,
    device: row.device,
    key: row.event_key,
    ts: row.ms,
    type: row.type,
    values: row.values,
  }));
}
