import type { Queryable } from '@strata/core';

/**
 * Bounds how long DDL in this transaction waits for a lock. A DETACH queued behind a long read
 * would otherwise block every later writer to `events` while it waits.
 */
export async function setLocalLockTimeout(db: Queryable, ms: number): Promise<void> {
  await db.query({ name: 'set-local-lock-timeout', text: "SELECT set_config('lock_timeout', $1, true)", values: [`${ms}ms`] });
}
