import { existsSync } from 'node:fs';
import { chmod, mkdir } from 'node:fs/promises';
import { totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { findPostgresBinDir } from './find-postgres-bin-dir.ts';
import { postgresMallocEnvironment } from './postgres-malloc-environment.ts';
import { postgresWorkloadSettings } from './postgres-workload-settings.ts';
import type { PrivateServer } from './private-server.ts';
import { readLogTail } from './read-log-tail.ts';
import { isRoot, runProcess, runProcessOrThrow } from './run-process.ts';

export interface PrivatePostgresOptions {
  dataDir: string;
  port: number;
  /** Listen address; loopback by default, because the cluster trusts every local connection. */
  host?: string;
  /** Name of the cluster's superuser (trust authentication). */
  superuser?: string;
  /** Server binaries; the newest under /usr/lib/postgresql by default. */
  binDir?: string;
  /** The OS user that owns and runs the cluster when we are root (PostgreSQL refuses root). */
  osUser?: string;
  startTimeoutSeconds?: number;
  /**
   * Server settings on top of (and overriding) the workload defaults of postgresWorkloadSettings,
   * e.g. a smaller shared_buffers for a test that runs several clusters at once.
   */
  settings?: Record<string, string>;
}

/** Unix socket paths are limited to ~107 bytes; a deep data dir falls back to /tmp. */
const MAX_SOCKET_PATH = 100;

/**
 * Starts a PostgreSQL cluster of our own under `dataDir`, creating it (initdb) on first use.
 * Used by `pnpm start` when no server answers, and by tests that need a primary they may crash.
 */
export async function startPrivatePostgres(options: PrivatePostgresOptions): Promise<PrivateServer> {
  const binDir = options.binDir ?? findPostgresBinDir();
  if (!binDir) throw new Error('no PostgreSQL server binaries found under /usr/lib/postgresql/*/bin');
  const host = options.host ?? '127.0.0.1';
  const dataDir = resolve(options.dataDir);
  const osUser = options.osUser ?? 'postgres';
  const asUser = isRoot() ? osUser : undefined;
  await prepareDataDir(dataDir, asUser);

  if (!existsSync(join(dataDir, 'PG_VERSION'))) {
    await runProcessOrThrow(
      join(binDir, 'initdb'),
      ['-D', dataDir, '-U', options.superuser ?? 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-locale'],
      { asUser },
    );
  }

  const socketDir = join(dataDir, `.s.PGSQL.${options.port}`).length <= MAX_SOCKET_PATH ? dataDir : '/tmp';
  // pg_ctl hands -o to /bin/sh, so every value is single-quoted for the shell.
  // Passed on the command line rather than written to postgresql.conf, so a cluster made by an
  // older version gets today's settings at its next start.
  const settings = { ...postgresWorkloadSettings(totalmem()), ...options.settings };
  const serverOptions = [
    `-c listen_addresses=${shellQuote(host)}`,
    `-p ${options.port}`,
    `-c unix_socket_directories=${shellQuote(socketDir)}`,
    ...Object.entries(settings).map(([name, value]) => `-c ${name}=${shellQuote(value)}`),
  ].join(' ');
  const logFile = join(dataDir, 'server.log');
  const timeout = String(options.startTimeoutSeconds ?? 60);
  const started = await runProcess(
    join(binDir, 'pg_ctl'),
    ['-D', dataDir, '-l', logFile, '-w', '-t', timeout, '-o', serverOptions, 'start'],
    // The server inherits pg_ctl's environment: glibc's allocator settings go there (decision 0094).
    { asUser, detached: true, env: postgresMallocEnvironment() },
  );
  if (started.code !== 0) {
    throw new Error(`PostgreSQL did not start in ${dataDir}:\n${started.output.trim()}\n${await readLogTail(logFile)}`);
  }

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= runProcessOrThrow(join(binDir, 'pg_ctl'), ['-D', dataDir, '-m', 'fast', '-w', '-t', timeout, 'stop'], {
      asUser,
    }).then(() => undefined);
    return stopped;
  };
  return { kind: 'postgres', host, port: options.port, dataDir, stop };
}

async function prepareDataDir(dataDir: string, asUser: string | undefined): Promise<void> {
  await mkdir(dataDir, { recursive: true });
  // initdb and the server insist the data directory is private to its owner.
  await chmod(dataDir, 0o700);
  if (!asUser) return;
  await runProcessOrThrow('chown', ['-R', `${asUser}:${asUser}`, dataDir]);
  const access = await runProcess('test', ['-w', dataDir, '-a', '-x', dataDir], { asUser });
  if (access.code !== 0) {
    throw new Error(`the ${asUser} user cannot use ${dataDir}: make its parent directories traversable (chmod o+x)`);
  }
}

function shellQuote(value: string): string {
  return `'${value.replaceAll("'", "'\\''")}'`;
}
