-- Up Migration
-- History's BRIN index on ts (events_ts_brin_idx) summarized by ops, not by autovacuum (decision 0106).
-- With autosummarize on, the insert that starts each new range of 16 pages asks autovacuum, through a
-- queue of 256 work items per server, to summarize the range before it. With autovacuum off, or at more
-- ranges than its visits take (~25 a second at 10 s naptime: ~32,000 events/s), the queue is full and
-- every further request logs a line with the whole inserting statement (a drain: ~12 KB, ~20 a second
-- under the batch bench, gigabytes a day); the ranges it drops stay unsummarized, and every scan by the
-- index reads them all, until a VACUUM of the partition.
--
-- PostgreSQL cannot change a partitioned index's options (ALTER INDEX … SET is refused on it), and a
-- partition's index is created with the parent's: each path that creates a partition turns the option
-- off on the new partition's index (strata_summarize_history_ranges_manually, below), and ops
-- summarizes the recent partitions' new ranges every round (brin_summarize_new_values).

-- The BRIN indexes of one table of history (a partition of events, or a day table about to become one),
-- told not to ask autovacuum. SHARE UPDATE EXCLUSIVE: inserts go on meanwhile.
CREATE FUNCTION strata_summarize_history_ranges_manually(day_table regclass) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  r record;
BEGIN
  FOR r IN
    SELECT i.indexrelid::regclass AS idx
      FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam
     WHERE i.indrelid = day_table AND a.amname = 'brin'
  LOOP
    EXECUTE format('ALTER INDEX %s SET (autosummarize = off)', r.idx);
  END LOOP;
END;
$$;

DO $$
DECLARE
  r record;
BEGIN
  FOR r IN SELECT i.inhrelid::regclass AS partition FROM pg_inherits i WHERE i.inhparent = 'events'::regclass LOOP
    PERFORM strata_summarize_history_ranges_manually(r.partition);
  END LOOP;
END;
$$;

-- As migration 0011's, and the new partition's index told not to ask autovacuum.
CREATE OR REPLACE FUNCTION ensure_event_partitions(first_day date, days integer) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  day date;
  created integer := 0;
  name text;
  lower timestamptz;
  upper timestamptz;
BEGIN
  FOR i IN 0 .. days - 1 LOOP
    day := first_day + i;
    name := 'events_' || to_char(day, 'YYYYMMDD');
    -- UTC literals: timestamptz + interval '1 day' would follow the session time zone's DST.
    lower := (to_char(day, 'YYYY-MM-DD') || ' 00:00:00+00')::timestamptz;
    upper := (to_char(day + 1, 'YYYY-MM-DD') || ' 00:00:00+00')::timestamptz;
    IF to_regclass(name) IS NULL
       AND NOT EXISTS (SELECT 1 FROM events_default WHERE ts >= lower AND ts < upper) THEN
      EXECUTE format(
        'CREATE TABLE %I PARTITION OF events FOR VALUES FROM (%L) TO (%L)',
        name, to_char(day, 'YYYY-MM-DD') || ' 00:00:00+00', to_char(day + 1, 'YYYY-MM-DD') || ' 00:00:00+00');
      PERFORM strata_summarize_history_ranges_manually(name::regclass);
      created := created + 1;
    END IF;
  END LOOP;
  RETURN created;
END;
$$;
