-- Up Migration
-- History keyed by a device number (issue 10, decision 0092). Each row of `events` held its tenant
-- (uuid, 16 B) and device name (text) twice, in the heap and in the primary key, and the key's
-- 7 bytes of padding before `ts`: ~250-290 B per event on the bench's workload, most of the target's
-- 250 B all-in. A dictionary `devices` numbers each (tenant, device) once; history keeps the number
-- and leads with `ts` so nothing pads: the same rows take ~175-190 B (heap 156 → 117-134 B, primary
-- key 97 → 53 B in a scratch run of 300k rows over 10k devices).
--
-- Reads keep the names: the view `tenant_events` joins history with the dictionary and has the old
-- table's columns, so a read by (tenant, device, time range) looks the device's number up once and
-- walks its key range. A read of a device's first or last rows (ORDER BY ts … LIMIT) takes the number
-- as a constant instead: through the view's join the planner sorts the device's rows first. A device number is only ever found through its tenant (the view, or the
-- dictionary's primary key), so no read can reach another tenant's rows by number.
--
-- Numbers are never reused or deleted: a dictionary row is ~60 B per device, not per event. bigint,
-- not integer: numbers are spent by inserts that roll back too (a refused batch is retried in
-- halves), and a tenant sending new device names at 50,000 a second would spend 2^31 in half a day,
-- failing every other tenant's new devices. In the primary key bigint costs nothing (ts after it is
-- 8-aligned either way); in the heap ~4 B a row.
CREATE TABLE devices (
  tenant_id  uuid NOT NULL,
  device     text NOT NULL,
  device_no  bigint GENERATED ALWAYS AS IDENTITY,
  -- INCLUDE: the drain and every read turn names into numbers from this index alone.
  PRIMARY KEY (tenant_id, device) INCLUDE (device_no),
  UNIQUE (device_no)
);

-- The old table, its partitions and their indexes step aside under a suffix, so that the new ones
-- take the old names (ops finds day partitions by name, events_YYYYMMDD).
DO $$
DECLARE
  r record;
BEGIN
  FOR r IN
    SELECT relid::regclass::text AS name, 'TABLE' AS kind FROM pg_partition_tree('events')
    UNION ALL
    SELECT relid::regclass::text, 'INDEX' FROM pg_partition_tree('events_pkey')
    UNION ALL
    SELECT relid::regclass::text, 'INDEX' FROM pg_partition_tree('events_ts_brin_idx')
  LOOP
    EXECUTE format('ALTER %s %s RENAME TO %I', r.kind, r.name, r.name || '_0023');
  END LOOP;
END;
$$;

-- ts first, then the number: no alignment padding in the heap. type is NULL for the default type
-- `reading` (SPEC), which most events have: 8 B less in those rows; the view gives it back.
CREATE TABLE events (
  ts         timestamptz NOT NULL,
  device_no  bigint NOT NULL,
  event_key  text NOT NULL,
  type       text CHECK (type <> 'reading'),
  "values"   jsonb NOT NULL,
  labels     jsonb,
  PRIMARY KEY (device_no, ts, event_key)
) PARTITION BY RANGE (ts);

DO $$
DECLARE
  r record;
BEGIN
  FOR r IN
    SELECT left(c.relname, -5) AS name, pg_get_expr(c.relpartbound, c.oid) AS bound
      FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
     WHERE i.inhparent = 'events_0023'::regclass
  LOOP
    EXECUTE format('CREATE TABLE %I PARTITION OF events %s', r.name, r.bound);
  END LOOP;
END;
$$;

CREATE INDEX events_ts_brin_idx ON events USING brin (ts) WITH (pages_per_range = 16, autosummarize = on);

INSERT INTO devices (tenant_id, device)
SELECT tenant_id, device FROM events_0023 GROUP BY tenant_id, device ORDER BY tenant_id, device;

INSERT INTO events (ts, device_no, event_key, type, "values", labels)
SELECT o.ts, d.device_no, o.event_key, nullif(o.type, 'reading'), o."values", o.labels
  FROM events_0023 o JOIN devices d ON d.tenant_id = o.tenant_id AND d.device = o.device;

DROP TABLE events_0023;

-- History with its tenant and device names: what every read of history selects from. The planner
-- flattens the join, so a filter on (tenant_id, device) probes the dictionary once.
CREATE VIEW tenant_events AS
SELECT d.tenant_id, d.device, e.ts, e.event_key, coalesce(e.type, 'reading') AS type, e."values", e.labels
  FROM events e
  JOIN devices d ON d.device_no = e.device_no;

-- The label fold's functions (migration 0021) read history by (tenant, device, time): the same
-- statements, by the device's number looked up once. Not through the view: joined, the planner sorts
-- every row of the range before the LIMIT; with the number as a constant each day's primary key
-- yields the rows in time order and the first one ends the scan.

CREATE OR REPLACE FUNCTION label_sample_after(tenant uuid, dev text, lab text, val text, after timestamptz,
                                   through timestamptz, otherwise timestamptz) RETURNS timestamptz
LANGUAGE sql STABLE AS $$
  SELECT coalesce((SELECT e.ts FROM events e
                    WHERE e.device_no = (SELECT d.device_no FROM devices d WHERE d.tenant_id = tenant AND d.device = dev)
                      AND e.ts > after AND e.ts <= through
                      AND val IS NOT NULL AND e.labels ->> lab = val
                    ORDER BY e.ts LIMIT 1), otherwise)
$$;

CREATE OR REPLACE FUNCTION label_sample_before(tenant uuid, dev text, lab text, val text, since timestamptz,
                                    before timestamptz) RETURNS timestamptz
LANGUAGE sql STABLE AS $$
  SELECT coalesce((SELECT e.ts FROM events e
                    WHERE e.device_no = (SELECT d.device_no FROM devices d WHERE d.tenant_id = tenant AND d.device = dev)
                      AND e.ts >= since AND e.ts < before
                      AND val IS NOT NULL AND e.labels ->> lab = val
                    ORDER BY e.ts DESC LIMIT 1), since)
$$;

CREATE OR REPLACE FUNCTION note_label_changes(tenant uuid, changes jsonb) RETURNS bigint
LANGUAGE sql AS $$
  WITH noted AS (
    INSERT INTO group_dirty (tenant_id, label, label_value, bucket)
    SELECT DISTINCT tenant, c.label, v.value, m.bucket
      FROM jsonb_to_recordset(coalesce(changes, '[]')) AS c(device text, label text, old_value text, new_value text,
                                                         lo timestamptz, hi timestamptz)
     CROSS JOIN LATERAL (VALUES (c.old_value), (c.new_value)) AS v(value)
     CROSS JOIN LATERAL (SELECT DISTINCT date_bin('1 minute', e.ts, TIMESTAMPTZ '1970-01-01 00:00:00+00') AS bucket
                           FROM tenant_events e
                          WHERE e.tenant_id = tenant AND e.device = c.device AND e.ts >= c.lo AND e.ts < c.hi) AS m
     WHERE v.value IS NOT NULL
    RETURNING 1
  )
  SELECT count(*) FROM noted
$$;
