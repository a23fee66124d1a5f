import { rm } from 'node:fs/promises';
import pg from 'pg';
import { replicationSlotName } from './replica-paths.ts';
import { stopPostgresCluster } from './stop-postgres-cluster.ts';

/**
 * Stops a replica, drops its replication slot on the primary (else the primary keeps WAL for it
 * forever) and deletes its data directory.
 */
export async function removeStreamingReplica(options: { primaryUrl: string; name: string; dataDir: string }): Promise<void> {
  await stopPostgresCluster(options.dataDir);
  const client = new pg.Client({ connectionString: options.primaryUrl, connectionTimeoutMillis: 5000 });
  client.on('error', () => {});
  await client.connect();
  try {
    await client.query(
      'SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1 AND NOT active',
      [replicationSlotName(options.name)],
    );
  } finally {
    await client.end().catch(() => {});
  }
  await rm(options.dataDir, { recursive: true, force: true });
}
