-- Up Migration
-- Hourly buckets, maintained by the projection beside rollups_1m from the same new rows. Series at
-- 1h and 1d read these: a 30-day range is 720 rows per value instead of 43,200 one-minute rows,
-- which keeps long-range reads fast at the cost of one more upsert per (device, value, hour) per batch.
CREATE TABLE rollups_1h (
  tenant_id   uuid NOT NULL,
  device      text NOT NULL,
  value_key   text NOT NULL,
  bucket      timestamptz NOT NULL,
  count       bigint NOT NULL,
  sum         double precision NOT NULL,
  min         double precision NOT NULL,
  max         double precision NOT NULL,
  last        double precision NOT NULL,
  last_ts     timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, device, value_key, bucket)
);

-- Hours already rolled up by minute before this migration.
INSERT INTO rollups_1h (tenant_id, device, value_key, bucket, count, sum, min, max, last, last_ts)
SELECT tenant_id, device, value_key, date_bin('1 hour', bucket, TIMESTAMPTZ '1970-01-01 00:00:00+00'), sum(count), sum(sum), min(min), max(max),
       (array_agg(last ORDER BY last_ts DESC, last DESC))[1], max(last_ts)
  FROM rollups_1m
 GROUP BY 1, 2, 3, 4;
