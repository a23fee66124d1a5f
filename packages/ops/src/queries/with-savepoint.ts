import type { PoolClient } from '@strata/core';

/**
 * Runs `work` inside a savepoint of the client's open transaction: when it fails, only its own
 * statements are undone and the transaction goes on. `name` must be a plain identifier.
 */
export async function withSavepoint<T>(client: PoolClient, name: string, work: () => Promise<T>): Promise<T> {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`not a savepoint name: ${name}`);
  await client.query(`SAVEPOINT ${name}`);
  try {
    const result = await work();
    await client.query(`RELEASE SAVEPOINT ${name}`);
    return result;
  } catch (error) {
    await client.query(`ROLLBACK TO SAVEPOINT ${name}`);
    throw error;
  }
}
