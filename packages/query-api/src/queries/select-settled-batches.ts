import type { Queryable } from '@strata/core';

// A waited-for batch is settled once it is applied, or once staging no longer holds it: refused after
// staging (its queue write failed: command-api removed the rows, and nobody was told it was stored),
// or lost with UNLOGGED staging in a crash (decision 0104 says what a read then misses). Each id is
// two key probes, as scalar subqueries: never a hash of either table, whatever the plan (a join form
// scanned a 2M-row applied_batches in parallel for 10,000 ids, 163 ms: hostile review).
const SQL = `
  SELECT b::text AS batch_id FROM unnest($1::uuid[]) AS b
   WHERE (SELECT 1 FROM applied_batches a WHERE a.batch_id = b LIMIT 1) IS NOT NULL
      OR (SELECT 1 FROM staging_events s WHERE s.batch_id = b LIMIT 1) IS NULL`;

/** Which of `batchIds` no read need wait for any more. */
export async function selectSettledBatches(db: Queryable, batchIds: string[]): Promise<string[]> {
  const result = await db.query<{ batch_id: string }>({ name: 'query-select-settled-batches', text: SQL, values: [batchIds] });
  return result.rows.map((row) => row.batch_id);
}
