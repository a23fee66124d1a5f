import { withTransaction, type Pool } from '@strata/core';
import { setLocalLockTimeout } from './set-local-lock-timeout.ts';

/*
 * The page ranges of the named history tables summarized in their BRIN index (decision 0106), one
 * range per call of brin_summarize_range, from each table's cursor (where the last round stopped) to
 * its end, at most `maxRanges` in all. Each call locks the table SHARE UPDATE EXCLUSIVE for one range
 * (16 pages) and releases it when it returns, not at the end of the statement: partition DDL waiting
 * behind a round (premake's CREATE TABLE … PARTITION OF, the DEFAULT mover's lock on `events`, both of
 * which hold ACCESS EXCLUSIVE on `events`, and so every insert into history, while they wait) gets the
 * table between two ranges. brin_summarize_new_values held it for the whole table (hostile review).
 * A call on a range already summarized reads the range map only; the one being filled is summarized
 * as far as it goes, and later inserts widen its summary in place, so it is revisited only to be
 * safe. A name that is not a table (a day without a partition) is skipped. The round also turns off
 * autosummarize on any BRIN index of these tables that still has it (a partition made by a path that
 * did not), so no range ever queues an autovacuum work item.
 */
const SQL = `
WITH indexes AS (
  SELECT c.name, i.indexrelid AS idx,
         (pg_relation_size(i.indrelid) / current_setting('block_size')::int)::int AS pages,
         coalesce((SELECT split_part(o, '=', 2)::int FROM unnest(x.reloptions) o WHERE o LIKE 'pages_per_range=%'), 128) AS step,
         c.cursor
    FROM unnest($1::text[], $2::int[]) AS c(name, cursor)
    JOIN pg_index i ON i.indrelid = to_regclass(c.name)
    JOIN pg_class x ON x.oid = i.indexrelid
    JOIN pg_am a ON a.oid = x.relam AND a.amname = 'brin'
), chosen AS MATERIALIZED (
  SELECT n.name, n.idx, n.pages, n.step, b.block
    FROM indexes n, generate_series(n.cursor - n.cursor % n.step, n.pages - 1, n.step) AS b(block)
   ORDER BY n.name, b.block
   LIMIT $3
), done AS (
  SELECT name, pages, step, block, brin_summarize_range(idx::regclass, block) AS summarized FROM chosen
)
SELECT name, max(pages)::int AS pages, max(step)::int AS step, max(block)::int AS last, sum(summarized)::int AS summarized
  FROM done GROUP BY name`;

// The safety net: a BRIN index of these tables still asking autovacuum is told not to (ALTER INDEX,
// SHARE UPDATE EXCLUSIVE on the index, only when one is found).
const STOP_ASKING = `
SELECT count(strata_summarize_history_ranges_manually(i.indrelid::regclass))::int AS n
  FROM unnest($1::text[]) AS c(name)
  JOIN pg_index i ON i.indrelid = to_regclass(c.name)
  JOIN pg_class x ON x.oid = i.indexrelid
  JOIN pg_am a ON a.oid = x.relam AND a.amname = 'brin'
 WHERE NOT coalesce(x.reloptions @> ARRAY['autosummarize=off'], false)`;

/** How long a round waits for a table another statement holds: far below a round's interval. */
const LOCK_TIMEOUT_MS = 1_000;

/**
 * Ranges per round: ~2,000 ranges of 16 pages are 256 MB of history, a second or two of reading; a
 * backlog (the first round after an upgrade, after ops was down) is worked off over rounds, each far
 * inside the statement timeout.
 */
export const RANGES_PER_ROUND = 2_048;

/** lock_not_available: lock_timeout passed. */
const LOCK_NOT_AVAILABLE = '55P03';

/** Where each table's next round starts (block numbers); a table not in it starts at 0. */
export type RangeCursors = Map<string, number>;

/**
 * Summarizes the tables' ranges from their cursors, moves the cursors, and resolves to how many ranges
 * were summarized (0 when a table was held: the cursors stay, the next round does it).
 */
export async function summarizeHistoryRanges(pool: Pool, tables: readonly string[], cursors: RangeCursors, maxRanges = RANGES_PER_ROUND): Promise<number> {
  let rows: { name: string; pages: number; step: number; last: number; summarized: number }[];
  try {
    rows = await withTransaction(pool, async (client) => {
      await setLocalLockTimeout(client, LOCK_TIMEOUT_MS);
      await client.query(STOP_ASKING, [tables]);
      const result = await client.query(SQL, [tables, tables.map((name) => cursors.get(name) ?? 0), maxRanges]);
      return result.rows;
    });
  } catch (error) {
    if ((error as { code?: unknown }).code === LOCK_NOT_AVAILABLE) return 0;
    throw error;
  }
  for (const name of [...cursors.keys()]) if (!tables.includes(name)) cursors.delete(name);
  let summarized = 0;
  for (const row of rows) {
    summarized += row.summarized;
    // Stopped by the cap: the next round goes on after the last range. Reached the end: the next round
    // starts at the last range, which rows may still be filling.
    cursors.set(row.name, row.last + row.step < row.pages ? row.last + row.step : row.last);
  }
  return summarized;
}
