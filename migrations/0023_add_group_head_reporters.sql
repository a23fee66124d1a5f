-- Up Migration
-- The members that reported in a head's span (decision 0088): per group, value key and open minute, the
-- devices whose events of the minute before the mark's `through` the head holds, under this group value
-- at each event's time. A read that may be stale and ends a bucket at the head's `through` counts its
-- `devices` from them, instead of probing every member's history of the minute. Inserted once per
-- (minute, device) as the head advances (work ∝ the range's events, as the head's), deleted with the
-- head. Logged, as the heads and marks are.
CREATE TABLE group_minute_reporters (
  tenant_id    uuid NOT NULL,
  label        text NOT NULL,
  label_value  text NOT NULL,
  value_key    text NOT NULL,
  bucket       timestamptz NOT NULL,
  device       text NOT NULL,
  PRIMARY KEY (tenant_id, label, label_value, value_key, bucket, device)
);
CREATE INDEX group_minute_reporters_tenant_bucket_idx ON group_minute_reporters (tenant_id, bucket);

-- How far the minute's reporters are kept: equal to `through` when every range the head advanced over
-- added its reporters. A head advanced by a release that kept none moves `through` alone, so the two
-- differ and the head never ends a read's bucket; NULL for heads from before this migration, and for a
-- minute past the cap on reporter rows (MAX_REPORTERS_PER_MINUTE, advance-group-heads.ts), which
-- `reporter_rows` counts.
ALTER TABLE group_minute_marks ADD COLUMN reporters_through timestamptz, ADD COLUMN reporter_rows integer;

-- The claim (or any deletion of a minute's notes) takes the reporters with the mark and the heads.
CREATE OR REPLACE FUNCTION drop_heads_of_unnoted_minutes() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM group_minute_marks m USING (SELECT DISTINCT tenant_id, bucket FROM gone) g
   WHERE m.tenant_id = g.tenant_id AND m.bucket = g.bucket;
  DELETE FROM group_minute_heads h USING (SELECT DISTINCT tenant_id, bucket FROM gone) g
   WHERE h.tenant_id = g.tenant_id AND h.bucket = g.bucket;
  DELETE FROM group_minute_reporters r USING (SELECT DISTINCT tenant_id, bucket FROM gone) g
   WHERE r.tenant_id = g.tenant_id AND r.bucket = g.bucket;
  RETURN NULL;
END
$$;
