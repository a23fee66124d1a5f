-- Up Migration
-- One-minute buckets per tenant / device / numeric value. Additive (count, sum, min, max) plus the
-- value with the newest event time, so coarser intervals are computed from these rows exactly.
-- Only rows newly inserted into history are added, so a re-sent event is counted once.
CREATE TABLE rollups_1m (
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
