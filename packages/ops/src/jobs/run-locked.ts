import { withTransaction, type Pool, type PoolClient } from '@strata/core';
import { tryAdvisoryXactLock } from '../queries/try-advisory-xact-lock.ts';

export type LockedResult<T> = { locked: true; value: T } | { locked: false };

/**
 * Runs `work` in one transaction holding the advisory lock `name`. When another ops instance holds
 * it, nothing runs: maintenance jobs are idempotent, so the holder's run is as good as ours. The
 * lock is transaction-scoped, so a crashed worker can never leave it held.
 */
export async function runLocked<T>(pool: Pool, name: string, work: (client: PoolClient) => Promise<T>): Promise<LockedResult<T>> {
  return withTransaction(pool, async (client) => {
    if (!(await tryAdvisoryXactLock(client, name))) return { locked: false };
    return { locked: true, value: await work(client) };
  });
}
