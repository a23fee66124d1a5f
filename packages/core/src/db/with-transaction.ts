import type pg from 'pg';
import { withClient } from './with-client.ts';

/** Runs `work` in one transaction on one connection; rolls back and rethrows on any error. */
export async function withTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  return withClient(pool, async (client, discard) => {
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      try {
        await client.query('ROLLBACK');
      } catch {
        // The connection itself is gone (server restart): discard it rather than return it to the pool.
        discard();
      }
      throw error;
    }
  });
}
