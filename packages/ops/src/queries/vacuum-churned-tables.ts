import type { Queryable } from '@strata/core';

/**
 * The tables whose rows are rewritten or deleted many times a second while they stay small (decision
 * 0089): latest state (every drain rewrites each touched device's row), the aggregate and group notes
 * (appended per drain, deleted per claim), the heads of open group minutes and their marks and reporters
 * (rewritten every refresh round), label versions (split by every label change), and staging (appended
 * and deleted per batch) last: the one that can be large, during a backlog. History and the rollups are
 * large and mostly appended or replaced minute by minute: autovacuum's thresholds suit them.
 */
export const CHURNED_TABLES = [
  'device_state',
  'aggregate_dirty',
  'group_dirty',
  'group_minute_marks',
  'group_minute_heads',
  'group_minute_reporters',
  'label_versions',
  'staging_events',
] as const;

// One statement per table (hostile review): a single VACUUM of the list is cancelled whole by the
// statement timeout, so a huge staging backlog would leave every table after it unvacuumed each round.
// SKIP_LOCKED: a table another vacuum (another ops instance, autovacuum) or a DDL statement holds is
// left for the next round instead of waited for. TRUNCATE false: giving a table's empty tail pages back
// takes an ACCESS EXCLUSIVE lock, which replays on streaming replicas and stalls replay behind (or
// cancels) their reads of these tables; the notes tables empty and fill every few seconds, so their
// pages are reused instead. Never inside a transaction: VACUUM cannot run in one, and pool.query runs
// each on its own.
const STATEMENTS = CHURNED_TABLES.map((table) => `VACUUM (SKIP_LOCKED, TRUNCATE false) ${table}`);

/**
 * One plain (not FULL) vacuum of each churned table in turn: frees their dead row versions for reuse and
 * keeps their visibility maps current. Stops at the first failure (the round is retried whole next time).
 */
export async function vacuumChurnedTables(db: Queryable): Promise<void> {
  for (const statement of STATEMENTS) await db.query(statement);
}
