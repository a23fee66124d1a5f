-- Up Migration
-- Tenant-wide event counts per bucket and event type, for GET /v1/stats. Maintained by the
-- projection from the rows it newly inserts into history, so a re-sent event is counted once.
--
-- Every batch of a tenant adds to the same few rows (its current minute and hour), and a row
-- lock is held until the batch commits: one counter row per (tenant, bucket, type) would make
-- concurrent batches of one tenant wait for each other. Each batch therefore adds to one of a few
-- `shard` rows (chosen from its batch id) and readers sum the shards.
CREATE TABLE event_counts_1m (
  tenant_id  uuid NOT NULL,
  bucket     timestamptz NOT NULL,
  type       text NOT NULL,
  shard      smallint NOT NULL,
  count      bigint NOT NULL,
  PRIMARY KEY (tenant_id, bucket, type, shard)
);

-- Hourly level: day buckets over a year read 8,760 hours per type instead of 525,600 minutes.
CREATE TABLE event_counts_1h (
  tenant_id  uuid NOT NULL,
  bucket     timestamptz NOT NULL,
  type       text NOT NULL,
  shard      smallint NOT NULL,
  count      bigint NOT NULL,
  PRIMARY KEY (tenant_id, bucket, type, shard)
);

-- History already stored before this migration, in shard 0.
INSERT INTO event_counts_1m (tenant_id, bucket, type, shard, count)
SELECT tenant_id, date_bin('1 minute', ts, TIMESTAMPTZ '1970-01-01 00:00:00+00'), type, 0, count(*)
  FROM events
 GROUP BY 1, 2, 3;
INSERT INTO event_counts_1h (tenant_id, bucket, type, shard, count)
SELECT tenant_id, date_bin('1 hour', bucket, TIMESTAMPTZ '1970-01-01 00:00:00+00'), type, 0, sum(count)
  FROM event_counts_1m
 GROUP BY 1, 2, 3;
