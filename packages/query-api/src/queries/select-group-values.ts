import type { Queryable } from '@strata/core';

/*
 * One page of a label's values with how many devices hold each now: the current versions
 * (valid_to = infinity, decision 0074), read from label_versions_group_idx's (tenant, label, value,
 * valid_to) prefix. A removed label is a current version with a NULL value and counts nowhere. One
 * current version per (device, label), so count(*) counts devices. Text order in the "C" collation: by
 * code point, the same on every server whatever its locale; a page starts after the cursor's value in
 * that order. Two statements, so each keeps one plan (decision 0083).
 */
const FIRST_PAGE = `
  SELECT value, count(*)::int AS devices
    FROM label_versions
   WHERE tenant_id = $1 AND label = $2 AND valid_to = 'infinity' AND value IS NOT NULL
   GROUP BY value
   ORDER BY value COLLATE "C"
   LIMIT $3`;

const NEXT_PAGE = `
  SELECT value, count(*)::int AS devices
    FROM label_versions
   WHERE tenant_id = $1 AND label = $2 AND valid_to = 'infinity' AND value IS NOT NULL AND value COLLATE "C" > $4 COLLATE "C"
   GROUP BY value
   ORDER BY value COLLATE "C"
   LIMIT $3`;

export interface GroupValueRow {
  value: string;
  devices: number;
}

export interface SelectGroupValuesQuery {
  tenantId: string;
  label: string;
  /** Rows to return at most. */
  limit: number;
  /** Values after this one (code point order); the first page without. */
  after?: string;
}

export async function selectGroupValues(db: Queryable, query: SelectGroupValuesQuery): Promise<GroupValueRow[]> {
  const result =
    query.after === undefined
      ? await db.query<GroupValueRow>({ name: 'query-select-group-values', text: FIRST_PAGE, values: [query.tenantId, query.label, query.limit] })
      : await db.query<GroupValueRow>({ name: 'query-select-group-values-after', text: NEXT_PAGE, values: [query.tenantId, query.label, query.limit, query.after] });
  return result.rows;
}
