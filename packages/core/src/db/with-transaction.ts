import type pg from 'pg';

/** Runs `work` in one transaction on one connection; rolls back and rethrows on any error. */
export async function withTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken = false;
  // A checked-out client whose server goes away emits 'error' besides failing its query; the pool
  // listens only on idle clients, so without this the event is uncaught and ends the process
  // (seen when PostgreSQL crashed under the aggregate refresher). The query's own error still throws.
  const onError = (): void => {
    broken = true;
  };
  client.on('error', onError);
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
      broken = true;
    }
    throw error;
  } finally {
    // A broken client keeps the listener: it is discarded, and its socket may still report the
    // termination after this returns. A healthy one goes back to the pool without it.
    if (!broken) client.off('error', onError);
    client.release(broken);
  }
}
