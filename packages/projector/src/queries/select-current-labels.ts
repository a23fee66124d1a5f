import type { Queryable } from '@strata/core';

/** A device's current labels as latest state shows them, as the cache entry holds them. */
export interface CurrentLabels {
  device: string;
  /** The labels as JSON text (a label named `__proto__` stays a plain key). */
  labelsJson: string;
  /** Newest valid_from among the device's newest versions, epoch ms (0 without any): the cache entry's version. */
  version: number;
}

/**
 * The current labels of `devices` (each one's newest version of each label, when it has a value) and
 * their version, as command-api computes them for its write-through after a PUT/PATCH (the contract
 * note of 2026-11-30 07:10): read in the refresher's transaction after its fold, written to the cache
 * after the commit. One index range of label_versions' primary key per device.
 */
export async function selectCurrentLabels(db: Queryable, tenantId: string, devices: string[]): Promise<CurrentLabels[]> {
  const result = await db.query<{ device: string; labels: string; version: number | null }>({
    name: 'select-current-labels',
    text: `SELECT d.device, c.labels, c.version
             FROM unnest($2::text[]) AS d(device)
            CROSS JOIN LATERAL (
              SELECT coalesce(jsonb_object_agg(label, value) FILTER (WHERE value IS NOT NULL), '{}')::text AS labels,
                     (extract(epoch FROM max(valid_from)) * 1000)::float8 AS version
                FROM label_versions
               WHERE tenant_id = $1 AND device = d.device AND valid_to = 'infinity'
            ) c`,
    values: [tenantId, devices],
  });
  return result.rows.map((row) => ({ device: row.device, labelsJson: row.labels, version: row.version ?? 0 }));
}
