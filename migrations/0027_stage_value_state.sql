-- Up Migration
-- Each staged event's values as latest-state entries ({"key":{"v":value,"t":epoch ms}}), written by
-- command-api (decision 0107): the drain used to build them per event from the values, in SQL, which
-- was ~13 of 69 ms of a 2,000-event drain. NULL where command-api did not write them (a
-- timestamp that is not a whole millisecond, rows staged before this migration): the drain builds
-- those as before. Staging is UNLOGGED and a nullable column without a default is added without a
-- rewrite.
ALTER TABLE staging_events ADD COLUMN state jsonb;
