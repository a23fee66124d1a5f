import { existsSync } from 'node:fs';
import { appendFile, chmod, mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { findPostgresBinDir } from '../servers/find-postgres-bin-dir.ts';
import type { PrivateServer } from '../servers/private-server.ts';
import { isRoot, runProcessOrThrow } from '../servers/run-process.ts';
import { startPrivatePostgres } from '../servers/start-private-postgres.ts';
import { replicationSlotName } from './replica-paths.ts';
import { stopPostgresCluster } from './stop-postgres-cluster.ts';

export interface StreamingReplicaOptions {
  /** The primary; its user must be allowed replication connections (see checkReplicationAccess). */
  primaryUrl: string;
  /** Names the replication slot on the primary; [a-z0-9_]. */
  name: string;
  dataDir: string;
  port: number;
  /** Listen address; loopback by default, because the copy trusts every local connection. */
  host?: string;
  binDir?: string;
  osUser?: string;
}

/** A running hot standby this process started; `url` reaches the primary's database on it. */
export interface StreamingReplica extends PrivateServer {
  readonly url: string;
  /** `immediate` simulates a crash; the next start recovers and resumes streaming. */
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  /** Starts it again after a stop (same data directory and port). */
  start(): Promise<void>;
}

/**
 * Starts a hot-standby streaming replica of `primaryUrl`'s cluster under `dataDir`, taking a base
 * backup (pg_basebackup -R, WAL streamed, its own replication slot) on first use. The server
 * refuses to run as root, so backup and server run as `osUser` (postgres) when we are root.
 */
export async function startStreamingReplica(options: StreamingReplicaOptions): Promise<StreamingReplica> {
  const binDir = options.binDir ?? findPostgresBinDir();
  if (!binDir) throw new Error('no PostgreSQL server binaries found under /usr/lib/postgresql/*/bin');
  const dataDir = resolve(options.dataDir);
  const osUser = options.osUser ?? 'postgres';
  if (!existsSync(join(dataDir, 'PG_VERSION'))) await takeBaseBackup(binDir, dataDir, osUser, options);

  const host = options.host ?? '127.0.0.1';
  const launch = (): Promise<PrivateServer> => startPrivatePostgres({ dataDir, port: options.port, host, binDir, osUser });
  await launch();
  const url = new URL(options.primaryUrl);
  url.hostname = host;
  url.port = String(options.port);
  const replica: StreamingReplica = {
    kind: 'postgres',
    host,
    port: options.port,
    dataDir,
    url: url.toString(),
    stop: async (mode = 'fast') => {
      await stopPostgresCluster(dataDir, { mode, binDir, osUser });
    },
    start: async () => {
      await launch();
    },
  };
  return replica;
}

async function takeBaseBackup(binDir: string, dataDir: string, osUser: string, options: StreamingReplicaOptions): Promise<void> {
  const asUser = isRoot() ? osUser : undefined;
  await mkdir(dirname(dataDir), { recursive: true });
  await mkdir(dataDir, { recursive: true });
  await chmod(dataDir, 0o700);
  if (asUser) await runProcessOrThrow('chown', [`${asUser}:${asUser}`, dataDir]);
  // -R writes standby.signal and primary_conninfo; -X stream copies the WAL the backup needs over a
  // second connection, so the copy is consistent without WAL archiving; -c fast skips waiting for
  // the primary's next scheduled checkpoint.
  await runProcessOrThrow(
    join(binDir, 'pg_basebackup'),
    ['-d', options.primaryUrl, '-D', dataDir, '-R', '-X', 'stream', '-c', 'fast', '-C', '-S', replicationSlotName(options.name), '-w'],
    { asUser },
  );
  // A Debian-managed primary keeps its configuration under /etc, so the backup lacks it; the copy
  // then needs files of its own. Loopback trust matches the private servers we start elsewhere.
  if (!existsSync(join(dataDir, 'postgresql.conf'))) await writeFile(join(dataDir, 'postgresql.conf'), '');
  if (!existsSync(join(dataDir, 'pg_hba.conf'))) {
    await writeFile(join(dataDir, 'pg_hba.conf'), 'local all all trust\nhost all all 127.0.0.1/32 trust\nhost all all ::1/128 trust\n');
  }
  if (!existsSync(join(dataDir, 'pg_ident.conf'))) await writeFile(join(dataDir, 'pg_ident.conf'), '');
  // Feedback stops the primary from vacuuming rows a replica query still reads, which would
  // otherwise cancel that query (a read error we would have to route around).
  await appendFile(join(dataDir, 'postgresql.auto.conf'), "hot_standby = on\nhot_standby_feedback = on\n");
}
