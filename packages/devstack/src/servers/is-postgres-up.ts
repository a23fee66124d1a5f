import pg from 'pg';

/**
 * Whether a PostgreSQL server answers at the URL's host and port. A server that answers with an
 * error of its own (unknown database, authentication) is up: only "nothing listening" or a
 * timeout counts as down, so we never start a private server over a real one.
 */
export async function isPostgresUp(connectionString: string, timeoutMs = 2000): Promise<boolean> {
  const client = new pg.Client({ connectionString, connectionTimeoutMillis: timeoutMs });
  // A refused or reset connection also surfaces as an 'error' event on some paths; it is expected here.
  client.on('error', () => {});
  try {
    await client.connect();
    return true;
  } catch (error) {
    // Server-side errors carry a five-character SQLSTATE; socket errors carry ECONNREFUSED and the like.
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code);
  } finally {
    await client.end().catch(() => {});
  }
}
