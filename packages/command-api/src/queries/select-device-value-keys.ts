import type { Queryable } from '@strata/core';

// The keys a device's latest state holds: what the value-key registry starts from when Redis has no
// entry for the device (first write since the registry expired, or a Redis that lost its data).
// Pairs of (tenant, device), so the devices of every request of a claim round cost one statement;
// rows come back by their pair's position, so nothing depends on how a tenant id is spelled.
// Each pair probes the primary key (a LATERAL subquery kept whole by OFFSET 0), and the statement is
// not named, so it is planned at every run from the table's size then. As a named plain join, the
// generic plan a connection keeps after its fifth run was made on a new deployment's empty table: a
// hash join over a sequential scan of device_state, and every first sighting of a device then read
// the whole table (1 ms at 10,000 devices). With the table counted empty by the churned-table
// vacuum, even the LATERAL form's generic plan scans it once per pair. This runs on a registry miss
// only (a device's first request since the entry expired), so planning each run costs little.
const SQL = `
  SELECT u.n::int AS n, ARRAY(SELECT jsonb_object_keys(s.state)) AS keys
    FROM unnest($1::uuid[], $2::text[]) WITH ORDINALITY AS u(tenant_id, device, n)
   CROSS JOIN LATERAL (
     SELECT state FROM device_state WHERE tenant_id = u.tenant_id AND device = u.device
     OFFSET 0
   ) s`;

interface Row {
  n: number;
  keys: string[];
}

/**
 * The stored value keys of each pair (tenants[i], devices[i]) by i; a device without state is absent,
 * which means it holds no keys yet.
 */
export async function selectDeviceValueKeys(db: Queryable, tenants: string[], devices: string[]): Promise<Map<number, string[]>> {
  const result = await db.query<Row>({ text: SQL, values: [tenants, devices] });
  return new Map(result.rows.map((row) => [row.n - 1, row.keys]));
}
