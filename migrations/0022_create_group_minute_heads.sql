-- Up Migration
-- Heads of open group minutes (issue 13, decision 0085). Reads answer a noted minute from its members'
-- history; under steady ingest the current minute is always noted (the refresher closes minutes only
-- once they end), so a read of an active group combined up to a minute of its members' events each
-- time (~30,000 in the bench: p99 240-340 ms). The refresher now also keeps, for a tenant's open noted
-- minute, every group's aggregate of the minute's events before a watermark `through` (the head), as
-- seen by the snapshot `snap` of the statement that last advanced it; a read adds only its members'
-- events at or after `through`.
--
-- Which events a head holds is decided by transaction, not by time alone: a drain that commits after
-- `snap` with events before `through` would otherwise be missed. So each note now says which
-- transaction wrote it (`xid`, pg_current_xact_id() of the drain) and the earliest event time it
-- noted (`first_ts`). A head stands for a read only while every note of its minute either is visible
-- in `snap` (its events before `through` are in the head) or has first_ts >= through (all its events
-- are in the read's tail); any other note (or one without xid/first_ts: written by older code or by
-- hand) sends the read back to the whole minute from history, as before.
ALTER TABLE aggregate_dirty ADD COLUMN first_ts timestamptz, ADD COLUMN xid xid8;

-- One row per (tenant, open noted minute) the refresher keeps heads for. through NULL: given up at
-- `written` (a late note arrived; reads combine the minute whole until the refresher starts it again,
-- a few seconds later, or claims it). Deleted with the minute's notes when the refresher claims it
-- (claim-dirty-minutes.ts).
CREATE TABLE group_minute_marks (
  tenant_id  uuid NOT NULL,
  bucket     timestamptz NOT NULL,
  through    timestamptz,
  snap       pg_snapshot NOT NULL,
  written    timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, bucket)
);

-- The heads: per group and value key, the minute's events before the mark's `through` (the columns a
-- series combines; devices and steps are not kept: reads count reporters and totals read raw minutes).
-- A group with no such events has no row. UNLOGGED would lose them in a crash while the mark survived
-- (a logged table): both logged.
CREATE TABLE group_minute_heads (
  tenant_id    uuid NOT NULL,
  label        text NOT NULL,
  label_value  text NOT NULL,
  value_key    text NOT NULL,
  bucket       timestamptz NOT NULL,
  count        bigint NOT NULL,
  sum          numeric NOT NULL,
  min          double precision NOT NULL,
  max          double precision NOT NULL,
  last         double precision NOT NULL,
  last_ts      timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, label, label_value, value_key, bucket)
);
CREATE INDEX group_minute_heads_tenant_bucket_idx ON group_minute_heads (tenant_id, bucket);

-- A head is judged by the notes of its minute (advance-group-heads.ts, reads' headedMinutes): once any of
-- them is deleted (the refresher's claim, or anything else, a refresher of an older release included),
-- the head can no longer be judged, so the minute's mark and heads go in the same statement. Per
-- statement, over the deleted notes' distinct minutes.
CREATE FUNCTION drop_heads_of_unnoted_minutes() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM group_minute_marks m USING (SELECT DISTINCT tenant_id, bucket FROM gone) g
   WHERE m.tenant_id = g.tenant_id AND m.bucket = g.bucket;
  DELETE FROM group_minute_heads h USING (SELECT DISTINCT tenant_id, bucket FROM gone) g
   WHERE h.tenant_id = g.tenant_id AND h.bucket = g.bucket;
  RETURN NULL;
END
$$;
CREATE TRIGGER aggregate_dirty_drop_heads AFTER DELETE ON aggregate_dirty
  REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION drop_heads_of_unnoted_minutes();
