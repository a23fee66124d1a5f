import type { Queryable } from '@strata/core';

// A version that ended before the raw horizon can no longer matter: no event older than the horizon
// is accepted (0051) or kept, so no fold lands in it and no group minute is recomputed over it; group
// aggregates of its time are already materialized. Current versions (valid_to = infinity) stay.
const SQL = `DELETE FROM label_versions WHERE valid_to < $1::timestamptz`;

/** Deletes label versions that ended before `rawHorizon`; returns how many. */
export async function deleteEndedLabelVersions(db: Queryable, rawHorizon: string): Promise<number> {
  const result = await db.query({ name: 'delete-ended-label-versions', text: SQL, values: [rawHorizon] });
  return result.rowCount ?? 0;
}
