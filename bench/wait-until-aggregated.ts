import type { Pool } from '@strata/core';

export interface Aggregated {
  /** Whether every noted minute that has ended was materialized before the timeout. */
  caughtUp: boolean;
  waitedMs: number;
  /** Noted tenant minutes (aggregate_dirty) left when the wait ended. */
  notedMinutes: number;
  /** Noted group minutes (group_dirty: relabelled, decision 0074) left when the wait ended. */
  groupNotes: number;
}

// aggregate_dirty holds the (tenant, minute) notes the refresher has not yet materialized (decision
// 0060); the current minute may stay noted while it lasts. group_dirty holds (group, minute) notes a
// label change left for it (0074). Reads of buckets still noted aggregate history live, so reads are
// measured once the notes of ended minutes are gone, as in steady state. A table that a migration has
// not created yet has no notes: a statement naming it would not even parse, so each is asked for only
// when it exists.
const EXISTING_SQL = `SELECT to_regclass('aggregate_dirty') IS NOT NULL AS tenant, to_regclass('group_dirty') IS NOT NULL AS grp`;
const NOTES_SQL = {
  tenant: '(SELECT count(*) FROM aggregate_dirty WHERE bucket <= $1::timestamptz)',
  grp: '(SELECT count(*) FROM group_dirty WHERE bucket <= $1::timestamptz)',
};

async function notesStatement(db: Pool): Promise<string> {
  const existing = (await db.query<{ tenant: boolean; grp: boolean }>(EXISTING_SQL)).rows[0];
  const count = (table: keyof typeof NOTES_SQL) => (existing?.[table] ? NOTES_SQL[table] : '0');
  // `typed` names $1 even when neither table exists: an unreferenced parameter has no type and is refused.
  return `SELECT ${count('tenant')}::int AS tenant, ${count('grp')}::int AS grp, $1::timestamptz IS NOT NULL AS typed`;
}

/**
 * Waits until the refresher has materialized every noted minute, tenant and group, up to `throughMs`
 * (by default, all that ended two minutes ago), at most `timeoutMs`. A minute is materialized only once
 * it has ended, so waiting through a phase's last event waits for that minute to end too.
 */
export async function waitUntilAggregated(db: Pool, timeoutMs: number, log: (line: string) => void, throughMs?: number): Promise<Aggregated> {
  const started = performance.now();
  const sql = await notesStatement(db);
  let lastLog = started;
  for (;;) {
    const through = new Date(throughMs ?? Date.now() - 120_000);
    const row = (await db.query<{ tenant: number; grp: number }>(sql, [through])).rows[0];
    const notedMinutes = row?.tenant ?? 0;
    const groupNotes = row?.grp ?? 0;
    const waitedMs = performance.now() - started;
    if (notedMinutes + groupNotes === 0) return { caughtUp: true, waitedMs, notedMinutes, groupNotes };
    if (waitedMs > timeoutMs) return { caughtUp: false, waitedMs, notedMinutes, groupNotes };
    if (performance.now() - lastLog > 30_000) {
      log(`  ${notedMinutes} noted minutes and ${groupNotes} group notes still to materialize`);
      lastLog = performance.now();
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

/** `N noted minutes[ and M group notes] left`: what a wait that timed out left behind. */
export function describeLeft(aggregated: Aggregated): string {
  const group = aggregated.groupNotes > 0 ? ` and ${aggregated.groupNotes} group notes` : '';
  return `${aggregated.notedMinutes} noted minutes${group} left`;
}
