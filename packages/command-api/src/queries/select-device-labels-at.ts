import type { Queryable } from '@strata/core';

// The device's labels in force at one instant: of each label, the version holding the instant, when
// it has a value. The primary key (tenant, device, label, valid_from) serves it.
const SQL = `
  SELECT label, value
    FROM label_versions
   WHERE tenant_id = $1 AND device = $2 AND valid_from <= $3 AND valid_to > $3 AND value IS NOT NULL
   ORDER BY label COLLATE "C"`;

interface Row {
  label: string;
  value: string;
}

/** Label → value at `at`, in name order (code points); `__proto__` is an own key like any other. */
export async function selectDeviceLabelsAt(db: Queryable, tenantId: string, device: string, at: Date): Promise<Record<string, string>> {
  const result = await db.query<Row>({ name: 'select-device-labels-at', text: SQL, values: [tenantId, device, at] });
  const labels: Record<string, string> = {};
  for (const row of result.rows) Object.defineProperty(labels, row.label, { value: row.value, enumerable: true, writable: true, configurable: true });
  return labels;
}
