import type { PoolClient, Queryable } from '@strata/core';

/**
 * Runs `read` on one connection of `db` in a read-only transaction whose prepared statements use their
 * generic plan (`SET LOCAL plan_cache_mode = force_generic_plan`), for the statements written for one
 * plan whatever their parameters (the group reads, decision 0083). Left to itself PostgreSQL plans the
 * first five executions per connection afresh and may go on doing so (a group total: ~6 ms of planning
 * a call, its history probes naming every partition). Only inside this transaction: on a whole pool
 * the setting gave the device list a scan of every tenant's rows (the hostile review of 0083).
 * Two round trips more than a plain query (BEGIN with the SET, COMMIT); any failure rolls back.
 */
export async function withGenericPlans<T>(db: Queryable, read: (client: PoolClient) => Promise<T>): Promise<T> {
  const pooled = !('release' in db);
  const client = pooled ? await db.connect() : (db as PoolClient);
  let broken: Error | undefined;
  try {
    await client.query('BEGIN READ ONLY; SET LOCAL plan_cache_mode = force_generic_plan');
    const value = await read(client);
    await client.query('COMMIT');
    return value;
  } catch (error) {
    await client.query('ROLLBACK').catch((rollbackError: unknown) => {
      // A connection that cannot roll back is not given back to the pool.
      broken = rollbackError as Error;
    });
    throw error;
  } finally {
    if (pooled) client.release(broken);
  }
}
