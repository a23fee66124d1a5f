import type { Queryable } from '@strata/core';

// The labels each device holds now: its newest version of each label, when that version has a value
// (a removed label's newest version holds NULL). The primary key (tenant, device, label, valid_from)
// serves each pair (`value IS NOT NULL` is tested outside the lookup, OFFSET 0: inside, the planner
// may read label_versions_current_idx, all of the tenant's current labels, for each pair). Pairs of
// (tenant, device) as in select-device-value-keys, by position, and unnamed for the same reason: a
// generic plan made while label_versions was empty scans it for each pair once it has grown.
const SQL = `
  SELECT u.n::int AS n, array_agg(v.label) AS names
    FROM unnest($1::uuid[], $2::text[]) WITH ORDINALITY AS u(tenant_id, device, n)
   CROSS JOIN LATERAL (
     SELECT label, value FROM label_versions
      WHERE tenant_id = u.tenant_id AND device = u.device AND valid_to = 'infinity'
     OFFSET 0
   ) v
   WHERE v.value IS NOT NULL
   GROUP BY u.n`;

interface Row {
  n: number;
  names: string[];
}

/**
 * The label names each pair (tenants[i], devices[i]) holds, by i; a device without labels is absent.
 * What the label-name registry counts beside a request's new names, so an entry that expired (or a
 * Redis that lost it) cannot let a device past EVENT_LIMITS.maxLabels.
 */
export async function selectDeviceLabelNames(db: Queryable, tenants: string[], devices: string[]): Promise<Map<number, string[]>> {
  const result = await db.query<Row>({ text: SQL, values: [tenants, devices] });
  return new Map(result.rows.map((row) => [row.n - 1, row.names]));
}
