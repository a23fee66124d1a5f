-- Up Migration
-- Every drain rewrites each touched device's row, and `ts` changes with every update: while an index
-- covers `ts` (device_state_ts_idx), no update can be HOT, so each one writes a new index entry in
-- both indexes and leaves a dead tuple behind for vacuum. The bench measured device_state at ~370
-- bytes per event stored (issue 10). Without that index, and with room left on each page for the
-- next version of its rows, an update stays on its page (HOT): no index write, dead versions pruned
-- on the page itself.
--
-- What the index served: `GET /v1/devices?sort=ts`. That now sorts the tenant's rows (reached by the
-- primary key's tenant prefix) in memory per page; fine for thousands of devices per tenant, a cost
-- to revisit for tenants with millions (decision 0063).
DROP INDEX IF EXISTS device_state_ts_idx;
-- New pages keep half their space free for updated row versions (existing pages keep theirs until
-- rewritten).
ALTER TABLE device_state SET (fillfactor = 50);
