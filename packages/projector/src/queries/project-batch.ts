import { batchEventColumns, type BatchEvent, type Queryable } from '@strata/core';

/*
 * The whole projection of one drain — one or several batches — in one statement (one snapshot, one
 * round trip, one implicit transaction that commits synchronously):
 *  - history insert that skips rows already stored (a re-sent event or a retried job adds nothing);
 *  - a note of each (tenant, minute) the rows this statement really inserted fall in: the aggregate
 *    refresher recomputes those minutes from history, so every event is counted once, off this path;
 *  - device_state merged per value by event time (merge_value_state), so order never matters;
 *  - the batches' staged rows removed and each batch recorded as applied (what tokens refer to).
 * Rows are written in (tenant, device, ...) order so concurrent batches lock in the same order
 * and cannot deadlock each other.
 */
const SQL = `
WITH input AS (
  -- part: the 1-based position of the event's batch in $1.
  SELECT * FROM unnest($2::uuid[], $3::text[], $4::text[], $5::float8[], $6::text[], $7::jsonb[], $9::int[])
    AS u(tenant_id, device, event_key, ms, type, vals, part)
), inserted AS (
  INSERT INTO events (tenant_id, device, ts, event_key, type, "values", batch_id)
  SELECT tenant_id, device, to_timestamp(ms / 1000.0), event_key, type, vals, ($1::uuid[])[part]
    FROM input
   ORDER BY tenant_id, device, ms, event_key
  ON CONFLICT DO NOTHING
  RETURNING tenant_id, device, ts, type, "values", batch_id
), noted AS (
  -- Aggregates are not written here: the minutes the new rows fall in are noted, one row per tenant
  -- and minute (never per event), and the refresher recomputes them from history (migration 0014).
  INSERT INTO aggregate_dirty (tenant_id, bucket)
  SELECT DISTINCT tenant_id, date_bin('1 minute', ts, TIMESTAMPTZ '1970-01-01 00:00:00+00') FROM inserted
), newest AS (
  SELECT DISTINCT ON (i.tenant_id, i.device, v.key) i.tenant_id, i.device, v.key, v.value, i.ts
    FROM inserted i CROSS JOIN LATERAL jsonb_each(i."values") v
   ORDER BY i.tenant_id, i.device, v.key, i.ts DESC, v.value::text COLLATE "C" DESC
), per_device AS (
  SELECT d.tenant_id, d.device, d.ts, d.first_ts,
         coalesce(jsonb_object_agg(n.key, jsonb_build_object('v', n.value, 't', (extract(epoch FROM n.ts) * 1000)::bigint))
                    FILTER (WHERE n.key IS NOT NULL), '{}'::jsonb) AS state,
         coalesce(jsonb_object_agg(n.key, n.value) FILTER (WHERE n.key IS NOT NULL), '{}'::jsonb) AS vals
    FROM (SELECT tenant_id, device, max(ts) AS ts, min(ts) AS first_ts FROM inserted GROUP BY 1, 2) d
    LEFT JOIN newest n ON n.tenant_id = d.tenant_id AND n.device = d.device
   GROUP BY d.tenant_id, d.device, d.ts, d.first_ts
), upserted AS (
  -- When every incoming event is newer than all the device has (excluded.first_ts > s.ts), the
  -- per-value merge equals plain concatenation; only late or out-of-order data pays for the merge.
  INSERT INTO device_state AS s (tenant_id, device, ts, first_ts, state, "values")
  SELECT tenant_id, device, ts, first_ts, state, vals FROM per_device ORDER BY tenant_id, device
  ON CONFLICT (tenant_id, device) DO UPDATE SET
    ts = greatest(s.ts, excluded.ts),
    first_ts = least(s.first_ts, excluded.first_ts),
    (state, "values") = (
      SELECT merged.state,
             CASE WHEN excluded.first_ts > s.ts THEN s."values" || excluded."values" ELSE value_state_values(merged.state) END
        FROM (SELECT CASE WHEN excluded.first_ts > s.ts THEN s.state || excluded.state
                          ELSE merge_value_state(s.state, excluded.state) END AS state) merged),
    updated_at = now(),
    version = s.version + 1
  RETURNING tenant_id, device, ts, state, "values", updated_at, version
), unstaged AS (
  -- Only when the statement projects the whole batch: the parts of a split batch leave it staged
  -- and unapplied until every part is done (finishSplitBatch).
  DELETE FROM staging_events WHERE batch_id = ANY($1::uuid[]) AND $8::boolean
), applied AS (
  INSERT INTO applied_batches (batch_id, event_count, inserted)
  SELECT b.id, (SELECT count(*) FROM input i WHERE i.part = b.part), (SELECT count(*) FROM inserted x WHERE x.batch_id = b.id)
    FROM unnest($1::uuid[]) WITH ORDINALITY AS b(id, part)
   WHERE $8::boolean
  ON CONFLICT (batch_id) DO NOTHING
), inserted_by_batch AS (
  SELECT coalesce(jsonb_object_agg(batch_id, n), '{}'::jsonb) AS counts
    FROM (SELECT batch_id, count(*) AS n FROM inserted GROUP BY batch_id) c
)
SELECT u.tenant_id, u.device, u.ts, u."values", u.updated_at, u.version::text AS version,
       -- What this projection changed: the incoming per-value entries that won the merge. Live
       -- updates carry only these, never the whole state (a device may hold thousands of values).
       (SELECT coalesce(jsonb_object_agg(e.key, e.value), '{}'::jsonb)
          FROM jsonb_each(p.state) e WHERE u.state -> e.key = e.value) AS changed,
       (SELECT count(*) FROM inserted)::int AS inserted,
       (SELECT counts FROM inserted_by_batch) AS inserted_by_batch
  FROM upserted u
  JOIN per_device p ON p.tenant_id = u.tenant_id AND p.device = u.device`;

interface Row {
  tenant_id: string;
  device: string;
  ts: string;
  values: Record<string, unknown>;
  updated_at: string;
  version: string;
  changed: Record<string, { v: unknown; t: number }>;
  inserted: number;
  inserted_by_batch: Record<string, number>;
}

/** A device's latest state as the projection left it: what the cache and live stream receive. */
export interface ProjectedState {
  tenantId: string;
  device: string;
  ts: string;
  values: Record<string, unknown>;
  updatedAt: string;
  version: number;
  /** The values this projection changed, each with its event time (epoch ms): the live delta. */
  changed: Record<string, { v: unknown; t: number }>;
}

export interface ProjectionResult {
  /** Rows new to history; the rest of the batch was already stored. */
  inserted: number;
  states: ProjectedState[];
}

/** One batch of a drain: its id and the events its job carries. */
export interface DrainedBatch {
  batchId: string;
  events: BatchEvent[];
}

export interface DrainResult {
  /** Rows new to history, per batch id (a batch whose events were all stored before is absent). */
  insertedByBatch: Map<string, number>;
  /** One state per device the drain touched. */
  states: ProjectedState[];
}

export interface ProjectBatchOptions {
  /**
   * The events are the whole batch: unstage it and mark it applied in the same statement. False for
   * the parts of a split batch, which is marked applied once, when all its parts are done.
   */
  whole: boolean;
}

/**
 * Projects events of batch `batchId`. Safe to run again on the same events (a retried job, a part
 * of a split batch re-run after a crash): history skips stored rows, and notes and device_state
 * are fed only by the rows this statement really inserted.
 */
export async function projectBatch(db: Queryable, batchId: string, events: BatchEvent[], options: ProjectBatchOptions = { whole: true }): Promise<ProjectionResult> {
  const result = await projectDrain(db, [{ batchId, events }], options);
  return { inserted: result.insertedByBatch.get(batchId) ?? 0, states: result.states };
}

/**
 * Projects several batches in one statement and transaction (the drain of the jobs active at once),
 * with the same guarantees as one: the same event in two of them is stored once, every batch is
 * unstaged and marked applied (with its own counts) in the same commit.
 */
export async function projectDrain(db: Queryable, batches: DrainedBatch[], options: ProjectBatchOptions = { whole: true }): Promise<DrainResult> {
  const events = batches.length === 1 ? (batches[0] as DrainedBatch).events : batches.flatMap((batch) => batch.events);
  const parts = new Array<number>(events.length);
  let offset = 0;
  batches.forEach((batch, index) => {
    parts.fill(index + 1, offset, offset + batch.events.length);
    offset += batch.events.length;
  });
  const c = batchEventColumns(events);
  const result = await db.query<Row>({
    name: 'project-batch',
    text: SQL,
    values: [batches.map((batch) => batch.batchId), c.tenants, c.devices, c.keys, c.times, c.types, c.values, options.whole, parts],
  });
  return {
    insertedByBatch: new Map(Object.entries(result.rows[0]?.inserted_by_batch ?? {}).map(([id, n]) => [id, Number(n)])),
    states: result.rows.map((row) => ({
      tenantId: row.tenant_id,
      device: row.device,
      ts: new Date(row.ts).toISOString(),
      values: row.values,
      updatedAt: new Date(row.updated_at).toISOString(),
      version: Number(row.version),
      changed: row.changed,
    })),
  };
}
