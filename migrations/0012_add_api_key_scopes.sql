-- Up Migration
-- Scoped keys (issue 9 finding 8): a key may only read, only write, or both, and may be bound to one
-- device. Each key gets an id, so it can be listed and revoked without its secret; the id is what
-- `ops key revoke` takes and what the revocation channel carries. Existing keys keep every right.
ALTER TABLE api_keys
  ADD COLUMN id           uuid NOT NULL DEFAULT gen_random_uuid(),
  ADD COLUMN scope        text NOT NULL DEFAULT 'all' CHECK (scope IN ('read', 'write', 'all')),
  -- Same alphabet and length as an event's device (DEVICE_PATTERN in core).
  ADD COLUMN device       text CHECK (device IS NULL OR device ~ '^[A-Za-z0-9._:-]{1,128}$'),
  ADD COLUMN name         text CHECK (name IS NULL OR length(name) BETWEEN 1 AND 200),
  -- Refreshed at most once per cache period per process (on a lookup), not per request.
  ADD COLUMN last_used_at timestamptz;
ALTER TABLE api_keys ADD CONSTRAINT api_keys_id_key UNIQUE (id);
-- New keys must say what they may do; only the rows that existed before this migration defaulted to 'all'.
ALTER TABLE api_keys ALTER COLUMN scope DROP DEFAULT;
