-- Up Migration
-- Latest state per device. `state` holds, per value key, the newest value by *event time*:
-- {"temp": {"v": 36.6, "t": <epoch ms>}}. Merging is per value, so a late event never overwrites a
-- newer value but still contributes a key only it carries. `values` is the plain map readers use.
CREATE FUNCTION merge_value_state(old_state jsonb, new_state jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT coalesce(jsonb_object_agg(k, CASE
      WHEN o IS NULL THEN n
      WHEN n IS NULL THEN o
      -- Equal timestamps: the larger value text wins (byte order, as readers compare it in code),
      -- so the result never depends on arrival order.
      WHEN ((n->>'t')::bigint, (n->'v')::text COLLATE "C") > ((o->>'t')::bigint, (o->'v')::text COLLATE "C") THEN n
      ELSE o END), '{}'::jsonb)
  FROM (SELECT coalesce(a.key, b.key) AS k, a.value AS o, b.value AS n
        FROM jsonb_each(coalesce(old_state, '{}'::jsonb)) a
        FULL JOIN jsonb_each(coalesce(new_state, '{}'::jsonb)) b ON a.key = b.key) pairs
$$;

CREATE FUNCTION value_state_values(state jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT coalesce(jsonb_object_agg(key, value->'v'), '{}'::jsonb) FROM jsonb_each(state)
$$;

CREATE TABLE device_state (
  tenant_id   uuid NOT NULL,
  device      text NOT NULL,
  ts          timestamptz NOT NULL,
  state       jsonb NOT NULL,
  "values"    jsonb GENERATED ALWAYS AS (value_state_values(state)) STORED,
  updated_at  timestamptz NOT NULL DEFAULT now(),
  -- Increases with every change; the Redis cache keeps only the highest version it has seen.
  version     bigint NOT NULL DEFAULT 1,
  PRIMARY KEY (tenant_id, device)
);
CREATE INDEX device_state_ts_idx ON device_state (tenant_id, ts, device);
