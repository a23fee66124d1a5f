-- Up Migration
-- Aggregate retention (issue 13, AGGREGATE_RETENTION_DAYS) deletes buckets older than a horizon across
-- all tenants. These tables' keys lead with the tenant (and device), so without an index on bucket the
-- daily delete would read them whole. B-tree: small next to rollups_1m, and exact for a range delete.
-- rollups_1m and group_rollups_1m already have (tenant_id, bucket): retention deletes them per tenant.
CREATE INDEX rollups_1h_bucket_idx ON rollups_1h (bucket);
CREATE INDEX rollups_1d_bucket_idx ON rollups_1d (bucket);
CREATE INDEX event_counts_1m_bucket_idx ON event_counts_1m (bucket);
CREATE INDEX event_counts_1h_bucket_idx ON event_counts_1h (bucket);
CREATE INDEX group_rollups_1h_bucket_idx ON group_rollups_1h (bucket);
CREATE INDEX group_rollups_1d_bucket_idx ON group_rollups_1d (bucket);
