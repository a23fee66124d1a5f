import { setTimeout as sleep } from 'node:timers/promises';
import type { Queryable } from '@strata/core';

const ALL = `SELECT (SELECT count(*) FROM aggregate_dirty) + (SELECT count(*) FROM group_dirty) AS n`;
const LABELLED = `SELECT count(*) AS n FROM aggregate_dirty WHERE labelled`;
const ENDED = `SELECT (SELECT count(*) FROM aggregate_dirty WHERE bucket + interval '1 minute' <= $1)
  + (SELECT count(*) FROM group_dirty WHERE bucket + interval '1 minute' <= $1) AS n`;

export interface WaitForNoNotesOptions {
  /** Only the labelled minutes' notes: their label samples folded, other notes may remain (answered live). */
  labelledOnly?: boolean;
  /**
   * Only the notes of minutes that had ended by this instant: an open minute is claimed once it has
   * ended, so a test whose newest events are "now" waits for the rest without waiting out the minute.
   */
  endedBy?: Date;
}

/**
 * Waits until the running projector's refresher has materialized every noted minute (no tenant
 * note in aggregate_dirty, no group note in group_dirty): reads then answer from stored rows only.
 * With `labelledOnly`, until it has folded every labelled minute's label samples (decision 0074:
 * an event's labels reach groups when the refresher claims its minute), while other notes may
 * remain and be answered live. With `endedBy`, until every minute ended by then is materialized.
 */
export async function waitForNoNotes(db: Queryable, timeoutMs = 60_000, options: WaitForNoNotesOptions = {}): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const [sql, params] = options.labelledOnly ? [LABELLED, []] : options.endedBy ? [ENDED, [options.endedBy]] : [ALL, []];
  for (;;) {
    const { rows } = await db.query<{ n: string }>(sql, params);
    if (Number(rows[0]!.n) === 0) return;
    if (Date.now() > deadline) throw new Error(`${rows[0]!.n} notes still pending after ${timeoutMs} ms`);
    await sleep(100);
  }
}
