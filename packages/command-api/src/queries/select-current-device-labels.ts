import type { Queryable } from '@strata/core';

// The device's current labels as latest state shows them (its newest version of each label, when it
// has a value) and the version of that set: the newest valid_from among its newest versions, in epoch
// ms. Any fold that changes a current label replaces that label's newest version by one that starts
// later (or, on a tie of equal times, at the same instant), so the version never goes backwards.
const SQL = `
  SELECT coalesce(jsonb_object_agg(label, value) FILTER (WHERE value IS NOT NULL), '{}')::text AS labels,
         (extract(epoch FROM max(valid_from)) * 1000)::float8 AS version
    FROM label_versions
   WHERE tenant_id = $1 AND device = $2 AND valid_to = 'infinity'`;

interface Row {
  labels: string;
  version: number | null;
}

/** The current labels as JSON text (`__proto__` stays a plain key) and their version (0 for none). */
export async function selectCurrentDeviceLabels(db: Queryable, tenantId: string, device: string): Promise<{ labelsJson: string; version: number }> {
  const result = await db.query<Row>({ name: 'select-current-device-labels', text: SQL, values: [tenantId, device] });
  const row = result.rows[0] as Row;
  return { labelsJson: row.labels, version: row.version ?? 0 };
}
