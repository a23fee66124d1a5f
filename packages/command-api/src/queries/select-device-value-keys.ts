import type { Queryable } from '@strata/core';

// The keys a device's latest state holds: what the value-key registry starts from when Redis has no
// entry for the device (first write since the registry expired, or a Redis that lost its data).
const SQL = `
  SELECT device, ARRAY(SELECT jsonb_object_keys(state)) AS keys
    FROM device_state
   WHERE tenant_id = $1 AND device = ANY($2::text[])`;

interface Row {
  device: string;
  keys: string[];
}

/** Value keys per device of one tenant; devices without state are absent from the map. */
export async function selectDeviceValueKeys(db: Queryable, tenantId: string, devices: string[]): Promise<Map<string, string[]>> {
  const result = await db.query<Row>({ name: 'select-device-value-keys', text: SQL, values: [tenantId, devices] });
  return new Map(result.rows.map((row) => [row.device, row.keys]));
}
