import type { Queryable } from '@strata/core';

// Deleting the expired group days and adding their sums to each group's base is one statement, so a
// crash or a second run can never add a day twice: a folded day no longer exists. `through` is the
// aggregate horizon (a UTC midnight): the base holds every group event before it, and totals add
// the days from it on. Only days go: group hours and minutes of those days are deleted after this
// (deleteExpiredAggregates), and no refresh can rebuild them (their raw history went long before).
const SQL = `
  WITH gone AS (
    DELETE FROM group_rollups_1d
     WHERE tenant_id = $1 AND bucket < $2::timestamptz
    RETURNING label, label_value, value_key, sum
  )
  INSERT INTO group_totals_base AS base (tenant_id, label, label_value, value_key, through, sum)
  SELECT $1, label, label_value, value_key, $2::timestamptz, sum(sum)
    FROM gone
   GROUP BY label, label_value, value_key
  ON CONFLICT (tenant_id, label, label_value, value_key)
  DO UPDATE SET sum = base.sum + EXCLUDED.sum, through = GREATEST(base.through, EXCLUDED.through)`;

/** Folds `tenant`'s group days before `horizon` into group_totals_base; returns the groups touched. */
export async function foldExpiredGroupDays(db: Queryable, tenant: string, horizon: string): Promise<number> {
  const result = await db.query({ name: 'fold-expired-group-days', text: SQL, values: [tenant, horizon] });
  return result.rowCount ?? 0;
}
