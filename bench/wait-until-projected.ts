import type { Pool } from '@strata/core';

// An accepted batch is in staging before its 202 goes out and leaves it in the transaction that puts
// it in history, so once the load has stopped, empty staging means every acknowledged event is visible.
const SQL = 'SELECT NOT EXISTS (SELECT 1 FROM staging_events) AS drained';

async function isDrained(db: Pool): Promise<boolean> {
  const result = await db.query<{ drained: boolean }>(SQL);
  return result.rows[0]?.drained === true;
}

/** Resolves with the time (performance.now()) at which staging was first seen empty. */
export async function waitUntilDrained(db: Pool, timeoutMs: number): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (await isDrained(db)) return performance.now();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`staging not drained within ${timeoutMs} ms`);
}

/**
 * Waits until nothing is staged and then a moment more, so a phase never measures the previous
 * phase's backlog draining beside it (nor a window of event time overlapping it).
 */
export async function waitUntilSettled(db: Pool, timeoutMs = 300_000): Promise<void> {
  await waitUntilDrained(db, timeoutMs);
  await new Promise((resolve) => setTimeout(resolve, 1000));
}
