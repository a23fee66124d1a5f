-- Up Migration
-- Group aggregates (issue 13, decision 0074): per (tenant, label, label value, value key, bucket), the
-- bucket's events of every device whose label version at the event's ts held that value. Replaced by
-- the refresher from history joined with label_versions, never added to, like device rollups.
-- Sums are numeric (exact in any order, as device rollups since 0014); first_ts/last_ts bound the
-- bucket's events so a running total can answer an instant without raw history; `devices` counts
-- distinct reporting devices (not additive: coarser levels recompute it from members' device rows).
CREATE TABLE group_rollups_1m (
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
  first_ts     timestamptz NOT NULL,
  devices      integer NOT NULL,
  -- Up to 128 distinct event times of the minute as (µs offset from bucket, running sum through that
  -- time) pairs, so a total at any instant inside the minute stays exact once raw is gone; NULL when
  -- the minute held more distinct times.
  step_us      integer[],
  step_sum     numeric[],
  PRIMARY KEY (tenant_id, label, label_value, value_key, bucket)
);
-- The refresher replaces a tenant's claimed minute across groups.
CREATE INDEX group_rollups_1m_tenant_bucket_idx ON group_rollups_1m (tenant_id, bucket);

CREATE TABLE group_rollups_1h (
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
  first_ts     timestamptz NOT NULL,
  devices      integer NOT NULL,
  PRIMARY KEY (tenant_id, label, label_value, value_key, bucket)
);

CREATE TABLE group_rollups_1d (
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
  first_ts     timestamptz NOT NULL,
  devices      integer NOT NULL,
  PRIMARY KEY (tenant_id, label, label_value, value_key, bucket)
);

-- A group minute to recompute because a label change moved a device's events into or out of the group.
-- Appended, never merged, for the reason aggregate_dirty is (0014): a note commits with the versions
-- that caused it, and a refresher deletes only notes it can see.
CREATE TABLE group_dirty (
  tenant_id    uuid NOT NULL,
  label        text NOT NULL,
  label_value  text NOT NULL,
  bucket       timestamptz NOT NULL
);
-- Reads look up one group's noted minutes in their range; the refresher a tenant's oldest ones.
CREATE INDEX group_dirty_group_bucket_idx ON group_dirty (tenant_id, label, label_value, bucket);
CREATE INDEX group_dirty_tenant_bucket_idx ON group_dirty (tenant_id, bucket);

-- The running sum of each group value up to `through`, folded from group days that aggregate retention
-- dropped, so a total stays exact at any instant after its days are gone.
CREATE TABLE group_totals_base (
  tenant_id    uuid NOT NULL,
  label        text NOT NULL,
  label_value  text NOT NULL,
  value_key    text NOT NULL,
  through      timestamptz NOT NULL,
  sum          numeric NOT NULL,
  PRIMARY KEY (tenant_id, label, label_value, value_key)
);
