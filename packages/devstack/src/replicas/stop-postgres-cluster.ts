import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { findPostgresBinDir } from '../servers/find-postgres-bin-dir.ts';
import { isRoot, runProcess, runProcessOrThrow } from '../servers/run-process.ts';

export interface StopClusterOptions {
  /** `fast` disconnects clients and checkpoints; `immediate` is a crash (recovery on next start). */
  mode?: 'fast' | 'immediate';
  binDir?: string;
  osUser?: string;
}

/** Stops the cluster in `dataDir` if it runs; resolves false when it was not running. */
export async function stopPostgresCluster(dataDir: string, options: StopClusterOptions = {}): Promise<boolean> {
  const binDir = options.binDir ?? findPostgresBinDir();
  if (!binDir) throw new Error('no PostgreSQL server binaries found under /usr/lib/postgresql/*/bin');
  if (!existsSync(join(dataDir, 'postmaster.pid'))) return false;
  const asUser = isRoot() ? (options.osUser ?? 'postgres') : undefined;
  const status = await runProcess(join(binDir, 'pg_ctl'), ['-D', dataDir, 'status'], { asUser });
  // pg_ctl status: 0 running, 3 not running (a stale postmaster.pid after a crash).
  if (status.code !== 0) return false;
  await runProcessOrThrow(join(binDir, 'pg_ctl'), ['-D', dataDir, '-m', options.mode ?? 'fast', '-w', '-t', '60', 'stop'], { asUser });
  return true;
}
