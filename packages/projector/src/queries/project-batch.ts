import { batchEventColumns, type BatchEvent, type Queryable } from '@strata/core';

/**
 * What the history insert does with a row history already holds: `skip` it (ON CONFLICT DO NOTHING),
 * or `fail` the statement with a unique violation. `fail` costs one index descent a row less (the
 * speculative insertion's pre-check: ~8 % of a drain of 4,000 events, decision 0127); a drain that
 * fails so is run again with `skip`.
 */
export type HistoryConflicts = 'skip' | 'fail';

/**
 * The projection after its input: `input` is a CTE with one row per event (batch_id, tenant_id, device,
 * event_key, ts, type, vals, labels, state: the values as latest-state entries, or NULL); `whole` is
 * an SQL boolean saying whether the input holds whole batches (then each batch in it is marked
 * applied); `extra` adds CTEs (the job form unstages its batches).
 */
const projection = (input: string, whole: string, extra = '', conflicts: HistoryConflicts = 'skip'): string => `
WITH ${input}, named AS (
  -- History keeps each device's number, not its names (migration 0024, decision 0092): one probe of
  -- the dictionary's primary key (which covers the number) per device of the drain; NULL for a new one.
  SELECT n.tenant_id, n.device,
         (SELECT d.device_no FROM devices d WHERE d.tenant_id = n.tenant_id AND d.device = n.device) AS device_no
    FROM (SELECT DISTINCT tenant_id, device FROM input) n
), added AS (
  -- A device new to this snapshot is numbered here. DO UPDATE, not DO NOTHING: a concurrent drain
  -- may number the same device and commit after this statement's snapshot; DO NOTHING would return
  -- no row for it and its events would miss the join below. DO UPDATE waits for that drain and
  -- returns its row (a no-op version, only in that race). Name order, as every drain locks.
  INSERT INTO devices AS d (tenant_id, device)
  SELECT tenant_id, device FROM named WHERE device_no IS NULL ORDER BY tenant_id, device
  ON CONFLICT (tenant_id, device) DO UPDATE SET device = excluded.device
  RETURNING d.tenant_id, d.device, d.device_no
), numbered AS (
  SELECT tenant_id, device, device_no FROM named WHERE device_no IS NOT NULL
  UNION ALL
  SELECT tenant_id, device, device_no FROM added
), keyed AS MATERIALIZED (
  -- Each input row with its device's number. The joins of this statement's CTEs with each other are
  -- FULL joins, each in a MATERIALIZED CTE and filtered after it: PostgreSQL runs a full join only by
  -- hashing or merging, never as a nested loop, whatever it guesses. It sizes these CTEs from
  -- staging's statistics, and the churned-table vacuum takes those while staging is nearly empty (it
  -- is, between bursts): a guess of one row per batch made the inner joins nested loops of CTE scans,
  -- rows × devices comparisons, 2.5 s for each of two joins in a drain of 5,000 events (EXPLAIN
  -- ANALYZE, 2026-12-01; decision 0095). Every input row has a numbered device and every numbered
  -- device input rows, so the full join holds the inner join's rows; the filter below says so anyway.
  SELECT i.ts, n.device_no, i.event_key, i.type, i.vals, i.labels
    FROM input i FULL JOIN numbered n ON n.tenant_id = i.tenant_id AND n.device = i.device
), stored AS (
  INSERT INTO events (ts, device_no, event_key, type, "values", labels)
  -- The default type is stored as NULL (migration 0024).
  SELECT ts, device_no, event_key, nullif(type, 'reading'), vals, labels
    FROM keyed WHERE event_key IS NOT NULL AND device_no IS NOT NULL
   ORDER BY device_no, ts, event_key
  ${conflicts === 'skip' ? 'ON CONFLICT DO NOTHING' : ''}
  RETURNING device_no, ts, event_key, type, "values", labels
), renamed AS MATERIALIZED (
  -- A device none of whose rows were new meets no stored row (a full join, as keyed).
  SELECT n.tenant_id, n.device, s.ts, s.event_key, s.type, s."values", s.labels
    FROM stored s FULL JOIN numbered n ON n.device_no = s.device_no
), inserted AS (
  -- The new rows with their names again: what the rest of the statement groups and returns by.
  SELECT tenant_id, device, ts, event_key, coalesce(type, 'reading') AS type, "values", labels
    FROM renamed WHERE event_key IS NOT NULL AND device IS NOT NULL
), noted AS (
  -- Aggregates are not written here: the minutes the new rows fall in are noted, one row per tenant
  -- and minute (never per event), and the refresher recomputes them from history (migration 0014).
  -- \`labelled\` says a new row of the minute carries labels: the refresher folds only such minutes'
  -- label samples into label_versions (decision 0074); the drain itself looks nothing up.
  -- \`first_ts\` and \`xid\` let a read tell whether the minute's group heads hold this drain's rows
  -- (decision 0085, migration 0022).
  INSERT INTO aggregate_dirty (tenant_id, bucket, labelled, first_ts, xid)
  SELECT tenant_id, date_bin('1 minute', ts, TIMESTAMPTZ '1970-01-01 00:00:00+00'), bool_or(labels IS NOT NULL), min(ts), pg_current_xact_id()
    FROM inserted
   GROUP BY 1, 2
), counts AS (
  -- Usually every input row was new to history: then each batch's new rows are its rows, and
  -- inserted_by_batch (a join of the drain with itself, 6 % of the statement) is never run: a CTE
  -- without side effects runs only when read.
  SELECT (SELECT count(*) FROM inserted) = (SELECT count(*) FROM input) AS all_new
), fresh AS (
  -- The new rows that feed latest state. When every input row was new (the usual case) they are the
  -- input rows, which carry the latest-state entries command-api staged (\`state\`, decision 0107);
  -- otherwise the inserted rows, without them. Only one branch runs (a one-time filter each).
  SELECT tenant_id, device, ts, vals, state FROM input WHERE (SELECT all_new FROM counts)
  UNION ALL
  SELECT tenant_id, device, ts, "values", NULL::jsonb FROM inserted WHERE NOT (SELECT all_new FROM counts)
), device_counts AS (
  -- Each new row with its device's count of new rows: a window, not a join of CTEs. The planner
  -- guesses CTE sizes (from staging's statistics, a handful of rows when it has none) and joined
  -- inserted to a grouped copy of itself as a nested loop: 2,500 × 2,500 comparisons, 714 ms of an
  -- 854 ms drain (EXPLAIN ANALYZE, 2026-12-01).
  SELECT f.*, count(*) OVER (PARTITION BY f.tenant_id, f.device) AS n FROM fresh f
), per_device AS (
  -- Per device, each value's newest entry, as JSON text parsed once: a key quoted by to_json, a value
  -- in jsonb's own text, an event without values adding nothing (string_agg skips NULL). Text and one
  -- parse cost less than jsonb_object_agg over jsonb_build_object (decision 0086).
  -- Most devices have one new event in a drain (a fleet sends every second or so; drains take a few
  -- hundred milliseconds): their values are the event's, their state is built from it alone, and they
  -- skip the sort and the grouping below.
  -- Their entries come staged; only rows without (the job form, a drain holding a re-sent event, rows
  -- staged before migration 0027) build them here: coalesce runs the subquery only for those.
  SELECT i.tenant_id, i.device, i.ts, i.ts AS first_ts,
         coalesce(i.state,
                  (SELECT ('{' || string_agg(to_json(v.key)::text || ':{"v":' || v.value::text || ',"t":' || ms::text || '}', ',') || '}')::jsonb
                     FROM jsonb_each(i.vals) v, LATERAL (SELECT (extract(epoch FROM i.ts) * 1000)::bigint AS ms) t),
                  '{}'::jsonb) AS state,
         i.vals
    FROM device_counts i WHERE i.n = 1
  UNION ALL
  -- Devices with several: jsonb keeps the last of duplicate keys, and the rows come sorted oldest first
  -- (ties: the larger value text last), so the newest stays: one sort for all of them instead of one
  -- per device and aggregate (ordered aggregates cost 40 % more). The grouping keys lead the sort, so
  -- the planner groups the sorted rows as they come.
  SELECT tenant_id, device, max(ts), min(ts),
         coalesce(('{' || string_agg(to_json(key)::text || ':{"v":' || value::text || ',"t":' || ms::text || '}', ',') || '}')::jsonb, '{}'::jsonb),
         coalesce(('{' || string_agg(to_json(key)::text || ':' || value::text, ',') || '}')::jsonb, '{}'::jsonb)
    FROM (SELECT i.tenant_id, i.device, i.ts, (extract(epoch FROM i.ts) * 1000)::bigint AS ms, v.key, v.value
            FROM device_counts i
            LEFT JOIN LATERAL jsonb_each(i.vals) v ON true
           WHERE i.n > 1
           ORDER BY i.tenant_id, i.device, i.ts, v.value::text COLLATE "C") sorted
   GROUP BY tenant_id, device
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
  RETURNING tenant_id, device, ts, state, updated_at, version
), changed AS MATERIALIZED (
  -- Each upserted state with the incoming entries it was built from (a full join, as keyed: every
  -- per_device row is upserted once).
  SELECT u.tenant_id, u.device, u.ts, u.state, u.updated_at, u.version, p.state AS incoming
    FROM upserted u FULL JOIN per_device p ON p.tenant_id = u.tenant_id AND p.device = u.device
), matched AS MATERIALIZED (
  -- History does not keep batch ids (migration 0016): each new row is matched back to its input
  -- rows (a full join, as keyed; an input row that was not new meets no inserted row).
  SELECT x.tenant_id, x.device, x.ts, x.event_key, i.batch_id
    FROM inserted x
    FULL JOIN input i ON i.tenant_id = x.tenant_id AND i.device = x.device AND i.ts = x.ts AND i.event_key = x.event_key
), inserted_by_batch AS (
  -- An event carried by two batches of the drain was inserted once and counts for one of them.
  SELECT b.batch_id, count(*) AS n
    FROM (SELECT DISTINCT ON (tenant_id, device, ts, event_key) batch_id
            FROM matched WHERE event_key IS NOT NULL AND batch_id IS NOT NULL
           ORDER BY tenant_id, device, ts, event_key, batch_id) b
   GROUP BY b.batch_id
), applied AS (
  INSERT INTO applied_batches (batch_id, event_count, inserted)
  SELECT i.batch_id, count(*),
         CASE WHEN (SELECT all_new FROM counts) THEN count(*)
              ELSE coalesce((SELECT n FROM inserted_by_batch c WHERE c.batch_id = i.batch_id), 0) END
    FROM input i
   WHERE ${whole}
   GROUP BY i.batch_id
  ON CONFLICT (batch_id) DO NOTHING
)${extra}
SELECT (SELECT count(*) FROM inserted)::int AS inserted,
       CASE WHEN (SELECT all_new FROM counts)
            THEN (SELECT coalesce(jsonb_object_agg(batch_id, n), '{}'::jsonb) FROM (SELECT batch_id, count(*) AS n FROM input GROUP BY batch_id) b)
            ELSE (SELECT coalesce(jsonb_object_agg(batch_id, n), '{}'::jsonb) FROM inserted_by_batch) END AS inserted_by_batch,
       (SELECT array_agg(batch_id)::text[] FROM (SELECT DISTINCT batch_id FROM input) d) AS found,
       -- One row, the changed devices as one JSON array: one parse on the client, not a row and
       -- several JSON columns per device. Times as epoch ms. The merged state and the incoming
       -- newest entries both go back: the client finds the entries that won the merge (the live
       -- delta) by comparing them, which cost this statement a third of its time when done here.
       (SELECT coalesce(json_agg(json_build_array(
                 c.tenant_id, c.device, extract(epoch FROM c.ts) * 1000, c.state, extract(epoch FROM c.updated_at) * 1000, c.version, c.incoming)), '[]')
          FROM changed c WHERE c.version IS NOT NULL AND c.incoming IS NOT NULL) AS states`;

/*
 * The projection of one drain — one or several batches — in one statement (one snapshot, one
 * round trip, one implicit transaction that commits synchronously):
 *  - history insert that skips rows already stored (a re-sent event or a retried job adds nothing);
 *  - a note of each (tenant, minute) the rows this statement really inserted fall in: the aggregate
 *    refresher recomputes those minutes from history, so every event is counted once, off this path;
 *  - device_state merged per value by event time (merge_value_state), so order never matters;
 *  - the batches' staged rows removed and each batch recorded as applied (what tokens refer to).
 * Rows are written in one order (devices by name, history by device number, states by name, each
 * step before the next) so concurrent batches lock in the same order and cannot deadlock each other.
 * The statement returns one row: the counts and the changed states.
 *
 * Two forms of input. The usual one moves the batches' rows out of staging (DELETE … RETURNING):
 * they are there already, parsed and typed, so the drain sends only batch ids (DESIGN §2's ceiling
 * shape). The job form takes the events the jobs carry, as arrays: for batches staging no longer
 * holds (truncated by a PostgreSQL crash, or already projected by an earlier run of a retried job)
 * and for the parts of a split batch.
 */
const fromStaging = (conflicts: HistoryConflicts): string =>
  projection(
    `whole_batches AS MATERIALIZED (
  -- Only batches staging holds whole ($2: each batch's event count in its job). Staging and the job
  -- are written from the same events, so a difference means staging is not the batch: its job is
  -- the copy to project from (the caller does). Counted once per batch, here, and deleted by an array
  -- of ids (one index scan for all of them), never as a join: staging counted nearly empty made the
  -- planner put staging outside a semi join with this list and count every batch again for each
  -- staged row of the backlog behind the drain, 20 s for a drain of 2,160 events behind 120,000
  -- (decision 0110).
  SELECT b.id FROM unnest($1::uuid[], $2::int[]) AS b(id, n)
   WHERE (SELECT count(*) FROM staging_events s WHERE s.batch_id = b.id) = b.n
), input AS (
  DELETE FROM staging_events WHERE batch_id = ANY (ARRAY(SELECT id FROM whole_batches))
  RETURNING batch_id, tenant_id, device, event_key, ts, type, "values" AS vals, labels, state
)`,
    'true',
    '',
    conflicts,
  );
const FROM_STAGING = fromStaging('skip');
const FROM_STAGING_FAILING_ON_STORED = fromStaging('fail');

const FROM_JOBS = projection(
  `input AS (
  -- part: the 1-based position of the event's batch in $1.
  -- labels: NULL for an event that carries none.
  -- state: NULL, the drain builds the latest-state entries from vals.
  SELECT ($1::uuid[])[part] AS batch_id, tenant_id, device, event_key, to_timestamp(ms / 1000.0) AS ts, type, vals, labels, NULL::jsonb AS state
    FROM unnest($2::uuid[], $3::text[], $4::text[], $5::float8[], $6::text[], $7::jsonb[], $9::int[], $10::jsonb[])
      AS u(tenant_id, device, event_key, ms, type, vals, part, labels)
)`,
  '$8::boolean',
  `, unstaged AS (
  -- Only when the statement projects whole batches: the parts of a split batch leave it staged
  -- and unapplied until every part is done (finishSplitBatch).
  DELETE FROM staging_events WHERE batch_id = ANY($1::uuid[]) AND $8::boolean
)`,
);

/** One value of a device's state: the value and its event time (epoch ms). */
interface ValueEntry {
  v: unknown;
  t: number;
}

/** tenant, device, ts (epoch ms), merged state, updated_at (epoch ms), version, incoming newest entries */
export type StateTuple = [string, string, number, Record<string, ValueEntry>, number, number, Record<string, ValueEntry>];

/** The statement's one row. */
interface Row {
  inserted: number;
  inserted_by_batch: Record<string, number>;
  /** The batch ids the input held (for the staging form: the batches staging still had). */
  found: string[] | null;
  states: StateTuple[];
}

/** A device's latest state as the projection left it: what the cache and live stream receive. */
export interface ProjectedState {
  tenantId: string;
  device: string;
  ts: string;
  /**
   * Every value of the device after the projection, each with its event time (epoch ms), as
   * device_state.state holds it. Parsed from JSON, so every key is an own key (`__proto__` included):
   * read it with Object.keys and Object.hasOwn, never by assigning into a plain object.
   */
  state: Readonly<Record<string, ValueEntry>>;
  updatedAt: string;
  version: number;
  /** The keys of `state` this projection changed, in the state's order: the live delta. */
  changed: readonly string[];
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
  /** The batches the drain projected (from staging: those staging held; the rest are not applied). */
  found: Set<string>;
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
    text: FROM_JOBS,
    values: [batches.map((batch) => batch.batchId), c.tenants, c.devices, c.keys, c.times, c.types, c.values, options.whole, parts, c.labels],
  });
  return drainResult(result.rows);
}

/**
 * Projects `batches` from their staged rows, in one statement and transaction with the
 * guarantees of projectDrain; only the count of each batch's events is taken from `batches`. Batches
 * staging does not hold whole are left alone and absent from `found`:
 * the caller projects them from their jobs' events (projectDrain), which also settles a batch that a
 * previous run already applied. With `conflicts` 'fail', an event history already holds fails the
 * statement with a unique violation (23505), and nothing of it is done.
 */
export async function projectStagedDrain(db: Queryable, batches: DrainedBatch[], conflicts: HistoryConflicts = 'skip'): Promise<DrainResult> {
  const result = await db.query<Row>({
    name: conflicts === 'skip' ? 'project-staged-drain' : 'project-staged-drain-failing-on-stored',
    text: conflicts === 'skip' ? FROM_STAGING : FROM_STAGING_FAILING_ON_STORED,
    values: [batches.map((batch) => batch.batchId), batches.map((batch) => batch.events.length)],
  });
  return drainResult(result.rows);
}

function drainResult(rows: Row[]): DrainResult {
  const row = rows[0] as Row;
  return {
    insertedByBatch: new Map(Object.entries(row.inserted_by_batch).map(([id, n]) => [id, Number(n)])),
    states: drainStates(row.states),
    found: new Set(row.found ?? []),
  };
}

/** The drain's changed devices, from the statement's `states` column. */
export function drainStates(tuples: StateTuple[]): ProjectedState[] {
  // Every state of a drain has the drain's updated_at (the transaction's now()): one ISO text for all.
  let lastUpdatedAt = Number.NaN;
  let lastUpdatedAtText = '';
  return tuples.map(([tenantId, device, ts, state, updatedAt, version, incoming]): ProjectedState => {
    if (updatedAt !== lastUpdatedAt) {
      lastUpdatedAt = updatedAt;
      lastUpdatedAtText = new Date(updatedAt).toISOString();
    }
    // Found when first read: only a watched tenant's live delta reads it (decision 0098).
    let changed: readonly string[] | undefined;
    return {
      tenantId, device, ts: new Date(ts).toISOString(), state, updatedAt: lastUpdatedAtText, version: Number(version),
      get changed() {
        changed ??= changedKeys(state, incoming);
        return changed;
      },
    };
  });
}

/**
 * The incoming entries that won the merge: same time, same value. The keys come in the incoming
 * object's order, which JSON.parse gave both objects alike.
 */
function changedKeys(state: Readonly<Record<string, ValueEntry>>, incoming: Readonly<Record<string, ValueEntry>>): string[] {
  const changed: string[] = [];
  for (const key of Object.keys(incoming)) {
    if (!Object.hasOwn(state, key)) continue;
    const mine = incoming[key] as ValueEntry;
    const kept = state[key] as ValueEntry;
    if (kept.t === mine.t && sameJson(kept.v, mine.v)) changed.push(key);
  }
  return changed;
}

/** Values are JSON scalars (or, in principle, JSON documents): equal when they print the same. */
function sameJson(a: unknown, b: unknown): boolean {
  return a === b || (typeof a === 'object' && a !== null && JSON.stringify(a) === JSON.stringify(b));
}
