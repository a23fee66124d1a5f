import { batchEventColumns, valueStateText, type BatchEvent, type Queryable } from '@strata/core';

// One statement per batch, whatever its size: arrays in, unnest on the server. Timestamps travel as
// epoch milliseconds (float8 holds them exactly) to skip date formatting on the hot path. `labels` is
// NULL for an event that names none (decision 0074: a label-less row costs no bytes). `state` is the
// values as latest-state entries, which the drain would otherwise build per event (decision 0107).
const SQL = `
  INSERT INTO staging_events (batch_id, tenant_id, device, event_key, ts, type, "values", labels, state)
  SELECT $1, tenant_id, device, event_key, to_timestamp(ms / 1000.0), type, vals, labels, state
    FROM unnest($2::uuid[], $3::text[], $4::text[], $5::float8[], $6::text[], $7::jsonb[], $8::jsonb[], $9::jsonb[])
      AS u(tenant_id, device, event_key, ms, type, vals, labels, state)`;

export async function insertStagedEvents(db: Queryable, batchId: string, events: BatchEvent[]): Promise<void> {
  const c = batchEventColumns(events);
  const states = events.map((event) => valueStateText(event.values, event.ts));
  await db.query({
    name: 'insert-staged-events',
    text: SQL,
    values: [batchId, c.tenants, c.devices, c.keys, c.times, c.types, c.values, c.labels, states],
  });
}
