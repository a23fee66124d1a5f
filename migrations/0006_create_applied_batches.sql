-- Up Migration
-- A consistency token names a batch. A batch is visible on a node once this row is there, because
-- the row commits in the same transaction as the batch's projection; replicas receive it with WAL.
CREATE TABLE applied_batches (
  batch_id     uuid PRIMARY KEY,
  applied_at   timestamptz NOT NULL DEFAULT now(),
  event_count  integer NOT NULL,
  inserted     integer NOT NULL
);
CREATE INDEX applied_batches_applied_at_idx ON applied_batches (applied_at);

-- Written every second by ops on the primary; its age on a replica is that replica's lag.
CREATE TABLE replication_heartbeat (
  id       smallint PRIMARY KEY CHECK (id = 1),
  beat_at  timestamptz NOT NULL
);
INSERT INTO replication_heartbeat (id, beat_at) VALUES (1, now());
