import type { Queryable } from '@strata/core';

/*
 * Runs one statement of the caller's transaction with sorting discouraged to the planner
 * (`enable_sort` off, transaction-local), then puts the setting back as it was.
 *
 * For the group minute statement of claimed minutes (replace-group-minutes.ts), which groups every
 * sample of those minutes several ways: a busy labelled minute holds a million (352,000 line-protocol
 * points, three numeric fields each). Its CTEs are estimated at a row or two whatever they hold, so the
 * planner sorted the samples for each grouping (by time for the steps, by device for the reporters):
 * 5 of the statement's 9.8 s (EXPLAIN ANALYZE, 2026-12-02). Discouraged from sorting, it hashes them:
 * 3.6–3.7 s. Sorts that nothing can replace (the running sums' window, the writes' key order) stay;
 * they read one row per distinct time or key, not per sample. Decision 0108.
 *
 * The setting is put back also when the statement fails, if the transaction can still run statements
 * (a caller that catches the error and goes on); a failed transaction's rollback (or a rollback to a
 * savepoint taken before this call) puts it back itself. Only SET LOCAL's scope: outside a transaction
 * the setting would last for this call only, and the statement is planned as usual.
 */
export async function withHashedAggregation<T>(db: Queryable, statement: () => Promise<T>): Promise<T> {
  const before = await db.query<{ was: string }>({
    name: 'hashed-aggregation-on',
    text: `WITH was AS MATERIALIZED (SELECT current_setting('enable_sort') AS was)
           SELECT was, set_config('enable_sort', 'off', true) AS now FROM was`,
  });
  const restore = () =>
    db.query({ name: 'hashed-aggregation-off', text: `SELECT set_config('enable_sort', $1, true)`, values: [before.rows[0]?.was ?? 'on'] });
  let result: T;
  try {
    result = await statement();
  } catch (error) {
    // In a failed transaction this fails too; the statement's error is the one to report.
    await restore().catch(() => undefined);
    throw error;
  }
  await restore();
  return result;
}
