-- Up Migration
-- When each note was written (the noting drain's transaction start): the refresher claims an ended
-- minute once its notes have stopped coming for AGGREGATE_SETTLE_MS, or once it ended a minute ago
-- (decision 0093). Behind a backlog a minute's events keep landing for as long as the drain is behind;
-- each claim recomputes the whole minute from history, so claiming it on every new note repeated a busy
-- minute's recomputation (10–12 s) three and four times. Existing notes take the migration's time.
ALTER TABLE aggregate_dirty ADD COLUMN noted_at timestamptz NOT NULL DEFAULT now();

