import { withTransaction, type Pool } from '@strata/core';
import { setLocalLockTimeout } from './set-local-lock-timeout.ts';

/*
 * The new page ranges of the named history tables summarized in their BRIN index (decision 0106):
 * brin_summarize_new_values reads only the pages of ranges not summarized yet (the rows written since
 * the last round) and the range being filled, whose summary later inserts then widen in place. A name
 * that is not a table (a day without a partition) is skipped. It locks each table SHARE UPDATE
 * EXCLUSIVE, which inserts pass but a VACUUM, ANALYZE, partition DDL or another ops instance's round
 * holds: a bounded wait, then this round leaves the ranges to the next one (not a failure: the holder
 * is doing the same work, or will be done by then).
 */
const SQL = `
SELECT coalesce(sum(brin_summarize_new_values(i.indexrelid::regclass)), 0)::int AS ranges
  FROM pg_index i
  JOIN pg_class c ON c.oid = i.indexrelid
  JOIN pg_am a ON a.oid = c.relam
 WHERE a.amname = 'brin'
   AND i.indrelid IN (SELECT to_regclass(name) FROM unnest($1::text[]) AS name)`;

/** How long a round waits for a table another statement holds: far below a round's interval. */
const LOCK_TIMEOUT_MS = 1_000;

/** lock_not_available: lock_timeout passed. */
const LOCK_NOT_AVAILABLE = '55P03';

/** Summarizes the tables' new ranges; resolves to how many ranges were summarized (0 when a table was held). */
export async function summarizeHistoryRanges(pool: Pool, tables: readonly string[]): Promise<number> {
  try {
    return await withTransaction(pool, async (client) => {
      await setLocalLockTimeout(client, LOCK_TIMEOUT_MS);
      const result = await client.query<{ ranges: number }>(SQL, [tables]);
      return result.rows[0]?.ranges ?? 0;
    });
  } catch (error) {
    if ((error as { code?: unknown }).code === LOCK_NOT_AVAILABLE) return 0;
    throw error;
  }
}
