import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPrivatePostgres } from '@strata/devstack';
import { freePort } from '@strata/testkit';

/**
 * `--embedded`: a throwaway PostgreSQL started exactly as `pnpm start` starts its private one (same
 * function, same workload settings), so the bench can measure the default a user gets.
 */
export async function startBenchPostgres(): Promise<{ databaseUrl: string; stop(): Promise<void> }> {
  const root = await mkdtemp(join(tmpdir(), 'strata-bench-pg-'));
  // The postgres OS user (we may be root) must be able to reach the data directory inside.
  await chmod(root, 0o755);
  const port = await freePort();
  const server = await startPrivatePostgres({ dataDir: join(root, 'data'), port });
  return {
    databaseUrl: `postgres://postgres@127.0.0.1:${port}/strata_bench`,
    async stop() {
      await server.stop();
      await rm(root, { recursive: true, force: true });
    },
  };
}
