-- Up Migration
-- Aggregates leave the hot path (issue 10, decision 0060). The projection no longer adds each event
-- into rollups and counters; it notes which (tenant, minute) its newly inserted rows fall in, and the
-- refresher (projector/src/aggregation) recomputes those minutes from history and replaces them.
--
-- A note is appended, never merged: one row per projection transaction, tenant and minute (a batch of
-- 500 events writes one or two). There is deliberately no unique key. With one row per (tenant,
-- minute) and INSERT … ON CONFLICT DO NOTHING, a projection whose note met an existing row writes
-- nothing; a refresher that deleted that row before the projection committed would have recomputed
-- from a snapshot without its events, and the minute would stay stale with nothing left to say so.
-- An appended note commits with its events, so a refresher deletes only notes whose events it can
-- see, and concurrent projections of one tenant and minute never wait on each other's note.
-- A normal (logged) table: a note lost in a crash would leave its minute stale for ever.
CREATE TABLE aggregate_dirty (
  tenant_id  uuid NOT NULL,
  bucket     timestamptz NOT NULL
);
-- Reads look up a tenant's noted minutes inside their range; the refresher a tenant's oldest ones.
CREATE INDEX aggregate_dirty_tenant_bucket_idx ON aggregate_dirty (tenant_id, bucket);

-- Recomputing a tenant's minute, and stats over a noted minute at read time, need the tenant's rows
-- of that minute across all devices; the primary key leads with the device. A BRIN index on ts costs
-- the hot path next to nothing (rows arrive roughly in time order within a day's partition) and
-- narrows the scan to the page ranges that hold the minute.
CREATE INDEX events_ts_brin_idx ON events USING brin (ts) WITH (pages_per_range = 16, autosummarize = on);

-- The refresher replaces a tenant's minute: it finds the minute's rows across devices and values by
-- this index (the primary key leads with the device). Off the hot path, so its upkeep is cheap.
CREATE INDEX rollups_1m_tenant_bucket_idx ON rollups_1m (tenant_id, bucket);

-- Sums become exact: numeric adds without rounding or overflow and in any order, so a bucket
-- recomputed from history, a live aggregate and their combinations all equal the same oracle.
-- (Existing float8 sums convert as they are.)
ALTER TABLE rollups_1m ALTER COLUMN sum TYPE numeric USING sum::numeric;
ALTER TABLE rollups_1h ALTER COLUMN sum TYPE numeric USING sum::numeric;
ALTER TABLE rollups_1d ALTER COLUMN sum TYPE numeric USING sum::numeric;

-- Counters are replaced by one refresher per tenant at a time: nothing contends, so no shards.
CREATE TABLE event_counts_1m_merged AS
SELECT tenant_id, bucket, type, sum(count)::bigint AS count FROM event_counts_1m GROUP BY 1, 2, 3;
DROP TABLE event_counts_1m;
ALTER TABLE event_counts_1m_merged RENAME TO event_counts_1m;
ALTER TABLE event_counts_1m ALTER COLUMN tenant_id SET NOT NULL, ALTER COLUMN bucket SET NOT NULL,
  ALTER COLUMN type SET NOT NULL, ALTER COLUMN count SET NOT NULL, ADD PRIMARY KEY (tenant_id, bucket, type);

CREATE TABLE event_counts_1h_merged AS
SELECT tenant_id, bucket, type, sum(count)::bigint AS count FROM event_counts_1h GROUP BY 1, 2, 3;
DROP TABLE event_counts_1h;
ALTER TABLE event_counts_1h_merged RENAME TO event_counts_1h;
ALTER TABLE event_counts_1h ALTER COLUMN tenant_id SET NOT NULL, ALTER COLUMN bucket SET NOT NULL,
  ALTER COLUMN type SET NOT NULL, ALTER COLUMN count SET NOT NULL, ADD PRIMARY KEY (tenant_id, bucket, type);
