-- Up Migration
-- Event history, partitioned by day on event time. The primary key makes a re-sent event a no-op
-- (INSERT ... ON CONFLICT DO NOTHING); it must contain the partition key ts.
-- event_key is the device's id for the event, or a digest of its content when it sent none.
CREATE TABLE events (
  tenant_id    uuid NOT NULL,
  device       text NOT NULL,
  ts           timestamptz NOT NULL,
  event_key    text NOT NULL,
  type         text NOT NULL,
  "values"     jsonb NOT NULL,
  batch_id     uuid NOT NULL,
  ingested_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, device, ts, event_key)
) PARTITION BY RANGE (ts);

-- Catches rows outside every daily partition (far past or future), so late data is never refused;
-- maintenance moves them into proper partitions.
CREATE TABLE events_default PARTITION OF events DEFAULT;

-- Creates the daily partitions for [first_day, first_day + days). Bounds are UTC literals so the
-- session time zone can never shift a partition. Idempotent: existing partitions are skipped.
CREATE FUNCTION ensure_event_partitions(first_day date, days integer) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  day date;
  created integer := 0;
  name text;
BEGIN
  FOR i IN 0 .. days - 1 LOOP
    day := first_day + i;
    name := 'events_' || to_char(day, 'YYYYMMDD');
    IF to_regclass(name) IS NULL THEN
      EXECUTE format(
        'CREATE TABLE %I PARTITION OF events FOR VALUES FROM (%L) TO (%L)',
        name, to_char(day, 'YYYY-MM-DD') || ' 00:00:00+00', to_char(day + 1, 'YYYY-MM-DD') || ' 00:00:00+00');
      created := created + 1;
    END IF;
  END LOOP;
  RETURN created;
END;
$$;

SELECT ensure_event_partitions((now() AT TIME ZONE 'UTC')::date - 1, 9);
