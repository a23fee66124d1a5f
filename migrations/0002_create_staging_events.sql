-- Up Migration
-- Accepted events not yet projected. UNLOGGED: fast, but truncated by crash recovery and never
-- replicated; every batch is also carried by its queue job, so losing this table alone loses nothing.
-- Rows are taken by whole batch (batch_id), never by a sequence checkpoint: sequence values are
-- assigned before commit and commit out of order, so a checkpoint would skip rows.
CREATE UNLOGGED TABLE staging_events (
  batch_id     uuid NOT NULL,
  tenant_id    uuid NOT NULL,
  device       text NOT NULL,
  event_key    text NOT NULL,
  ts           timestamptz NOT NULL,
  type         text NOT NULL,
  "values"     jsonb NOT NULL,
  received_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX staging_events_batch_idx ON staging_events (batch_id);
-- Strong reads merge a device's still-staged rows into its latest state.
CREATE INDEX staging_events_device_idx ON staging_events (tenant_id, device);
