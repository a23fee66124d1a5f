import pg from 'pg';

/**
 * Why `url`'s server cannot feed a streaming replica from this host, or an empty list when it can.
 * Each problem says what to change, because the fix is on the primary, outside our reach.
 */
export async function checkReplicationAccess(url: string, timeoutMs = 5000): Promise<string[]> {
  const problems: string[] = [];
  const settings = await readSettings(url, timeoutMs);
  if (settings.wal_level === 'minimal') problems.push('wal_level is minimal: set wal_level = replica in postgresql.conf and restart');
  if (Number(settings.max_wal_senders ?? '0') < 1) problems.push('max_wal_senders is 0: set it to 10 in postgresql.conf and restart');

  // A replication connection is matched by pg_hba lines whose database column is `replication`;
  // `all` does not cover it, which is exactly the default on many installs.
  const client = new pg.Client({ connectionString: url, replication: 'true', connectionTimeoutMillis: timeoutMs } as pg.ClientConfig);
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('IDENTIFY_SYSTEM');
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const { hostname, username } = new URL(url);
    problems.push(
      `replication connections are refused (${message}). Add this line to ${settings.hba_file ?? 'pg_hba.conf'}:\n` +
        `    host  replication  ${decodeURIComponent(username) || 'postgres'}  ${hostname === 'localhost' ? '127.0.0.1' : hostname}/32  trust\n` +
        `  then reload the server: SELECT pg_reload_conf();  (use scram-sha-256 instead of trust where passwords are set)`,
    );
  } finally {
    await client.end().catch(() => {});
  }
  return problems;
}

async function readSettings(url: string, timeoutMs: number): Promise<Record<string, string>> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  client.on('error', () => {});
  await client.connect();
  try {
    // hba_file is visible to superusers only; the others just get a less specific hint.
    const result = await client.query<{ name: string; setting: string }>(
      `SELECT name, setting FROM pg_settings WHERE name IN ('wal_level', 'max_wal_senders', 'hba_file')`,
    );
    return Object.fromEntries(result.rows.map((row) => [row.name, row.setting]));
  } finally {
    await client.end().catch(() => {});
  }
}
