import { setOwnKey, type Queryable } from '@strata/core';

// The device's labels in force at one instant: of each label, the version holding the instant, when
// it has a value. The primary key (tenant, device, label, valid_from) serves it. The instant comes as
// epoch milliseconds, turned into a timestamp exactly (no float seconds). `value IS NOT NULL` is
// tested outside the lookup (OFFSET 0 keeps it there): inside, it lets the planner read the covering
// partial index led by (tenant, label, value), every one of the tenant's versions, for one device.
const SQL = `
  WITH at AS (SELECT 'epoch'::timestamptz + $3::float8 * interval '1 millisecond' AS t)
  SELECT label, value
    FROM (SELECT label, value
            FROM label_versions, at
           WHERE tenant_id = $1 AND device = $2 AND valid_from <= at.t AND valid_to > at.t
          OFFSET 0) v
   WHERE value IS NOT NULL
   ORDER BY label COLLATE "C"`;

interface Row {
  label: string;
  value: string;
}

/** Label → value at `atMs`, in name order (code points); `__proto__` is an own key like any other. */
export async function selectDeviceLabelsAt(db: Queryable, tenantId: string, device: string, atMs: number): Promise<Record<string, string>> {
  const result = await db.query<Row>({ name: 'select-device-labels-at', text: SQL, values: [tenantId, device, atMs] });
  const labels: Record<string, string> = {};
  for (const row of result.rows) setOwnKey(labels, row.label, row.value);
  return labels;
}
