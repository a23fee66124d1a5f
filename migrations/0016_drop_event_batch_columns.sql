-- Up Migration
-- History rows carried the id of the batch that stored them and the time they were stored. Nothing
-- reads either (tokens and counts live in applied_batches, one row per batch), and together they
-- were 24 of the ~190 bytes of every history row (issue 10: bytes per event). Dropping a column is
-- a catalog change: rows already stored keep their bytes until rewritten, new rows do without.
ALTER TABLE events DROP COLUMN batch_id;
ALTER TABLE events DROP COLUMN ingested_at;
