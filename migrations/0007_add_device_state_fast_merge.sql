-- Up Migration
-- Most batches carry only events newer than everything a device has reported (devices send in
-- order). For those, merging per value is the same as `state || new_state`, at a fraction of the
-- cost, and the projection can tell: every new event is newer than device_state.ts when the
-- batch's earliest event for the device (first_ts of the incoming row) is.
-- `values` becomes a plain column maintained by the projection (`values || new_values` on that
-- path), instead of a generated column that re-reads the whole state on every update.
ALTER TABLE device_state ALTER COLUMN "values" DROP EXPRESSION;

-- The earliest event time seen for the device ("first seen"); in an incoming row, the earliest
-- event time of the batch. NULL for rows written before this column existed.
ALTER TABLE device_state ADD COLUMN first_ts timestamptz;
