import { setTimeout as sleep } from 'node:timers/promises';
import { decodeToken, type Queryable } from '@strata/core';

/** Resolves once the batch a token names is projected (its applied_batches row is committed). */
export async function waitForToken(db: Queryable, token: string, timeoutMs = 15_000): Promise<void> {
  const batchId = decodeToken(token);
  if (!batchId) throw new Error(`not a token: ${token}`);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const found = await db.query('SELECT 1 FROM applied_batches WHERE batch_id = $1', [batchId]);
    if (found.rowCount) return;
    await sleep(25);
  }
  throw new Error(`batch ${batchId} not applied within ${timeoutMs} ms`);
}
