import { setTimeout as sleep } from 'node:timers/promises';
import type { Queryable } from '@strata/core';

/**
 * Waits until the running projector's refresher has materialized every noted minute (no tenant
 * note in aggregate_dirty, no group note in group_dirty): reads then answer from stored rows only.
 */
export async function waitForNoNotes(db: Queryable, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await db.query<{ n: string }>(`SELECT (SELECT count(*) FROM aggregate_dirty) + (SELECT count(*) FROM group_dirty) AS n`);
    if (Number(rows[0]!.n) === 0) return;
    if (Date.now() > deadline) throw new Error(`${rows[0]!.n} notes still pending after ${timeoutMs} ms`);
    await sleep(250);
  }
}
