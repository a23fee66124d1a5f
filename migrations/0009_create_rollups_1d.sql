-- Up Migration
-- Daily buckets, maintained by the projection beside rollups_1m and rollups_1h from the same new
-- rows. Series at 1d read these: a year is 365 rows per value instead of 8,760 hourly rows.
-- Days are UTC days (date_bin from the Unix epoch), whatever the session time zone.
CREATE TABLE rollups_1d (
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

-- Days already rolled up by hour before this migration.
INSERT INTO rollups_1d (tenant_id, device, value_key, bucket, count, sum, min, max, last, last_ts)
SELECT tenant_id, device, value_key, date_bin('1 day', bucket, TIMESTAMPTZ '1970-01-01 00:00:00+00'),
       sum(count), sum(sum), min(min), max(max),
       (array_agg(last ORDER BY last_ts DESC, last DESC))[1], max(last_ts)
  FROM rollups_1h
 GROUP BY 1, 2, 3, 4;
