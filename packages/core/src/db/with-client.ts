import type pg from 'pg';

/**
 * Runs `work` on one connection checked out of `pool`, and gives it back after, or closes it if it
 * broke. A checked-out client whose server goes away emits 'error' besides failing its query; the
 * pool listens only on idle clients, so without a listener here the event is uncaught and ends the
 * process (seen when PostgreSQL crashed under the aggregate refresher, and under a staging COPY).
 * The query's own error still reaches `work`. `discard` lets work close a connection it no longer
 * trusts (a ROLLBACK that failed).
 */
export async function withClient<T>(pool: pg.Pool, work: (client: pg.PoolClient, discard: () => void) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken = false;
  const onError = (): void => {
    broken = true;
  };
  client.on('error', onError);
  try {
    return await work(client, onError);
  } finally {
    // A broken client keeps the listener: it is discarded, and its socket may still report the
    // termination after this returns. A healthy one goes back to the pool without it.
    if (!broken) client.off('error', onError);
    client.release(broken);
  }
}
