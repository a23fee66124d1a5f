import { setTimeout as sleep } from 'node:timers/promises';
import type { Queryable } from '@strata/core';

const ALL = `SELECT (SELECT count(*) FROM aggregate_dirty) + (SELECT count(*) FROM group_dirty) AS n`;
const LABELLED = `SELECT count(*) AS n FROM aggregate_dirty WHERE labelled`;

/**
 * Waits until the running projector's refresher has materialized every noted minute (no tenant
 * note in aggregate_dirty, no group note in group_dirty): reads then answer from stored rows only.
 * With `labelledOnly`, until it has folded every labelled minute's label samples (decision 0074:
 * an event's labels reach groups when the refresher claims its minute), while other notes may
 * remain and be answered live.
 */
export async function waitForNoNotes(db: Queryable, timeoutMs = 60_000, options: { labelledOnly?: boolean } = {}): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await db.query<{ n: string }>(options.labelledOnly ? LABELLED : ALL);
    if (Number(rows[0]!.n) === 0) return;
    if (Date.now() > deadline) throw new Error(`${rows[0]!.n} notes still pending after ${timeoutMs} ms`);
    await sleep(100);
  }
}
