import type { Pool } from '@strata/core';

export interface Aggregated {
  /** Whether every noted minute that has ended was materialized before the timeout. */
  caughtUp: boolean;
  waitedMs: number;
  /** Noted minutes left when the wait ended. */
  notedMinutes: number;
}

// aggregate_dirty holds the (tenant, minute) notes the refresher has not yet materialized (decision
// 0060); the current minute may stay noted while it lasts. Reads of buckets still noted aggregate
// history live, so reads are measured once the notes of ended minutes are gone, as in steady state.
const SQL = `SELECT CASE WHEN to_regclass('aggregate_dirty') IS NULL THEN 0
  ELSE (SELECT count(*) FROM aggregate_dirty WHERE bucket <= $1::timestamptz) END::int AS n`;

/**
 * Waits until the refresher has materialized every noted minute up to `throughMs` (by default, all
 * that ended two minutes ago), at most `timeoutMs`. A minute is materialized only once it has
 * ended, so waiting through a phase's last event waits for that minute to end too.
 */
export async function waitUntilAggregated(db: Pool, timeoutMs: number, log: (line: string) => void, throughMs?: number): Promise<Aggregated> {
  const started = performance.now();
  let lastLog = started;
  for (;;) {
    const through = new Date(throughMs ?? Date.now() - 120_000);
    const result = await db.query<{ n: number }>(SQL, [through]);
    const notedMinutes = result.rows[0]?.n ?? 0;
    const waitedMs = performance.now() - started;
    if (notedMinutes === 0) return { caughtUp: true, waitedMs, notedMinutes };
    if (waitedMs > timeoutMs) return { caughtUp: false, waitedMs, notedMinutes };
    if (performance.now() - lastLog > 30_000) {
      log(`  ${notedMinutes} noted minutes still to materialize`);
      lastLog = performance.now();
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}
