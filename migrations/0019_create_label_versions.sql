-- Up Migration
-- A device's labels over event time (decision 0074): one row per change of one label, holding the value
-- (NULL = absent) over [valid_from, valid_to). last_sample is the newest sample of the version's value
-- inside it: an older value resumes after a late sample only at its own next sample, which lies in the
-- device's history between the late sample and last_sample. origin 'e' = an event's labels,
-- 'a' = the API (PUT/PATCH); an API sample always starts its own version, so version starts and history
-- together hold every sample that can end a version. Written only by fold_label_samples (0021), under
-- the tenant's aggregate lock.
CREATE TABLE label_versions (
  tenant_id    uuid NOT NULL,
  device       text NOT NULL,
  label        text NOT NULL,
  valid_from   timestamptz NOT NULL,
  valid_to     timestamptz NOT NULL DEFAULT 'infinity',
  value        text,
  last_sample  timestamptz NOT NULL,
  origin       "char" NOT NULL CHECK (origin IN ('e', 'a')),
  PRIMARY KEY (tenant_id, device, label, valid_from),
  CHECK (valid_from < valid_to AND last_sample >= valid_from AND last_sample < valid_to)
);
-- Members of a group over a range (value, then versions ending after the range's start), and current
-- members (valid_to = 'infinity') by device for GET /v1/groups/:label and ?label=.
CREATE INDEX label_versions_group_idx ON label_versions (tenant_id, label, value, valid_to, device)
  INCLUDE (valid_from) WHERE value IS NOT NULL;
-- The current members of every value of a label (GET /v1/groups/:label counts them): small, exact,
-- whatever the history of relabels behind them.
CREATE INDEX label_versions_current_idx ON label_versions (tenant_id, label, value, device)
  WHERE valid_to = 'infinity' AND value IS NOT NULL;
