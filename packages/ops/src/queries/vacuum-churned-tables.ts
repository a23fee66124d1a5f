import type { Queryable } from '@strata/core';

/**
 * The tables whose rows are rewritten or deleted many times a second while they stay small (decision
 * 0089): latest state (every drain rewrites each touched device's row), staging (appended and deleted
 * per batch), the aggregate and group notes (appended per drain, deleted per claim), the heads of open
 * group minutes and their marks and reporters (rewritten every refresh round), and label versions
 * (split by every label change). History and the rollups are large and mostly appended or replaced
 * minute by minute: autovacuum's thresholds suit them.
 */
export const CHURNED_TABLES = [
  'device_state',
  'staging_events',
  'aggregate_dirty',
  'group_dirty',
  'group_minute_marks',
  'group_minute_heads',
  'group_minute_reporters',
  'label_versions',
] as const;

// SKIP_LOCKED: a table another vacuum (another ops instance, autovacuum) or a DDL statement holds is
// left for the next round instead of waited for. Never inside a transaction: VACUUM cannot run in one,
// and pool.query runs it on its own.
const SQL = `VACUUM (SKIP_LOCKED) ${CHURNED_TABLES.join(', ')}`;

/** One plain (not FULL) vacuum of every churned table: frees their dead row versions for reuse and keeps their visibility maps current. */
export async function vacuumChurnedTables(db: Queryable): Promise<void> {
  await db.query(SQL);
}
