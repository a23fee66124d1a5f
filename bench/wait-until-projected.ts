import type { Pool } from '@strata/core';

const SQL = 'SELECT coalesce(sum(event_count), 0)::bigint AS events FROM applied_batches';

/** Events in all applied batches so far: what the projector has made visible to reads. */
export async function projectedEvents(db: Pool): Promise<number> {
  const result = await db.query<{ events: string }>(SQL);
  return Number(result.rows[0]?.events ?? 0);
}

/** Resolves with the time (performance.now()) at which at least `target` events were projected. */
export async function waitUntilProjected(db: Pool, target: number, timeoutMs: number): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if ((await projectedEvents(db)) >= target) return performance.now();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`only ${await projectedEvents(db)} of ${target} events projected within ${timeoutMs} ms`);
}

/**
 * Waits until nothing is staged (every accepted batch projected) and then a moment more, so a
 * phase never measures the previous phase's backlog draining beside it.
 */
export async function waitUntilSettled(db: Pool, timeoutMs = 300_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    const staged = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM staging_events');
    if (staged.rows[0]?.n === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await new Promise((resolve) => setTimeout(resolve, 1000));
}
