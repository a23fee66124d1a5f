-- Up Migration
-- The members that reported in a head's span (decision 0088): the distinct devices whose events of the
-- minute before `through` the head holds, under this group value at each event's time. A read that may
-- be stale and ends a bucket at the head's `through` counts its `devices` from them, instead of probing
-- every member's history of the minute. NULL: written by a release that did not keep them (unknown);
-- such a head never ends a bucket, and the refresher keeps it NULL until the minute is claimed.
ALTER TABLE group_minute_heads ADD COLUMN reporters text[];
