-- Up Migration
-- Events the database refused after they were acknowledged (issue 9): one row per event, never per
-- batch. The projector splits a refused batch until the refused events are isolated, projects the
-- rest and records only those here, then marks the batch applied and unstages it like any other.
-- The row holds its own copy of the event, as JSON text (not jsonb: jsonb refuses exactly what put
-- many of these events here, U+0000 and lone surrogates, which JSON text keeps as escapes), so no
-- history partition, staged row or queue job has to be kept for it: retention drops days freely.
-- `event_digest` identifies the event (sha-256 of that JSON): a retried event that is refused again
-- updates its row instead of adding one, and the same event refused in two batches is one row.
CREATE TABLE dead_letters (
  id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  event_digest     text NOT NULL UNIQUE,
  -- The batch the event was first refused in, and the last one (a `dlq retry` is a batch too: when
  -- it is applied and this is not its id, the retried event was projected).
  batch_id         uuid NOT NULL,
  last_batch_id    uuid NOT NULL,
  tenant_id        uuid NOT NULL,
  device           text NOT NULL,
  -- NULL when the event's time is itself what PostgreSQL refused (outside timestamptz's range).
  ts               timestamptz,
  event            text NOT NULL,
  sqlstate         text NOT NULL,
  reason           text NOT NULL,
  failures         integer NOT NULL DEFAULT 1,
  first_failed_at  timestamptz NOT NULL DEFAULT now(),
  last_failed_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX dead_letters_tenant_idx ON dead_letters (tenant_id, id);
