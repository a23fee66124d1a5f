import type { Queryable } from '@strata/core';

/*
 * A label's values with how many devices hold each now: the current versions (valid_to = infinity,
 * decision 0074), read from label_versions_group_idx's (tenant, label, value, valid_to) prefix. A
 * removed label is a current version with a NULL value and counts nowhere. One current version per
 * (device, label), so count(*) counts devices. Text order in the "C" collation: by code point, the
 * same on every server whatever its locale.
 */
const SQL = `
  SELECT value, count(*)::int AS devices
    FROM label_versions
   WHERE tenant_id = $1 AND label = $2 AND valid_to = 'infinity' AND value IS NOT NULL
   GROUP BY value
   ORDER BY value COLLATE "C"`;

export interface GroupValueRow {
  value: string;
  devices: number;
}

export async function selectGroupValues(db: Queryable, tenantId: string, label: string): Promise<GroupValueRow[]> {
  const result = await db.query<GroupValueRow>({ name: 'query-select-group-values', text: SQL, values: [tenantId, label] });
  return result.rows;
}
