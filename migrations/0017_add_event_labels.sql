-- Up Migration
-- Labels ride with events (issue 13, decision 0074): an event's `labels` samples its device's labels at
-- the event's ts. Both columns are nullable without a default, so adding them is a catalog change: no
-- existing row is rewritten (on the partitioned events table the parent's ADD COLUMN reaches every
-- partition the same way), and a row without labels costs no bytes (a 7th column's null bit fits the
-- row header's bitmap).
ALTER TABLE staging_events ADD COLUMN labels jsonb;
ALTER TABLE events ADD COLUMN labels jsonb;

-- A note says whether any row it stands for carries labels, so the refresher scans only such minutes
-- for label samples. A constant default is stored in the catalog (PostgreSQL ≥ 11): no rewrite either.
ALTER TABLE aggregate_dirty ADD COLUMN labelled boolean NOT NULL DEFAULT false;
