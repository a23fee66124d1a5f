import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import {
  findPostgresBinDir,
  isRoot,
  runProcessOrThrow,
  startPrivatePostgres,
  startPrivateRedis,
  type PrivateServer,
} from '@strata/devstack';
import { freePort } from '@strata/testkit';

/**
 * A PostgreSQL and a Redis of the fault suite's own (temporary data dirs, free loopback ports), so
 * it may crash them at will without touching the servers other tests and engineers use.
 */
export class PrivateStores {
  readonly root: string;
  readonly pgPort: number;
  readonly redisPort: number;
  #postgres: PrivateServer | undefined;
  #redis: PrivateServer | undefined;

  private constructor(root: string, pgPort: number, redisPort: number) {
    this.root = root;
    this.pgPort = pgPort;
    this.redisPort = redisPort;
  }

  static async start(): Promise<PrivateStores> {
    const root = await mkdtemp(join(tmpdir(), 'strata-faults-'));
    // The postgres OS user must reach its data dir inside our temp dir.
    await chmod(root, 0o755);
    const stores = new PrivateStores(root, await freePort(), await freePort());
    await stores.startPostgres();
    await stores.startRedis();
    return stores;
  }

  get databaseUrl(): string {
    return `postgres://postgres@127.0.0.1:${this.pgPort}/strata`;
  }

  get redisUrl(): string {
    return `redis://127.0.0.1:${this.redisPort}`;
  }

  async startPostgres(): Promise<void> {
    this.#postgres = await startPrivatePostgres({ dataDir: join(this.root, 'postgres'), port: this.pgPort });
  }

  /** `pg_ctl stop -m immediate`: no checkpoint, so the restart runs crash recovery and truncates UNLOGGED staging. */
  async crashPostgres(): Promise<void> {
    const binDir = findPostgresBinDir();
    if (!binDir) throw new Error('no PostgreSQL binaries');
    await runProcessOrThrow(join(binDir, 'pg_ctl'), ['-D', join(this.root, 'postgres'), '-m', 'immediate', '-w', 'stop'], {
      asUser: isRoot() ? 'postgres' : undefined,
    });
  }

  async startRedis(): Promise<void> {
    this.#redis = await startPrivateRedis({ dataDir: join(this.root, 'redis'), port: this.redisPort });
  }

  /** `kill -9` the Redis server and wipe its files, so it comes back empty (as a Redis without persistence would). */
  async killRedisAndWipe(): Promise<void> {
    const admin = new Redis(this.redisUrl, { maxRetriesPerRequest: 1, lazyConnect: true });
    admin.on('error', () => {});
    await admin.connect();
    const pid = Number(/process_id:(\d+)/.exec(await admin.info('server'))?.[1]);
    admin.disconnect();
    process.kill(pid, 'SIGKILL');
    for (let i = 0; i < 100; i++) {
      try {
        process.kill(pid, 0);
        await sleep(50);
      } catch {
        break;
      }
    }
    await rm(join(this.root, 'redis'), { recursive: true, force: true });
  }

  async stop(): Promise<void> {
    await this.#redis?.stop().catch(() => {});
    await this.#postgres?.stop().catch(() => {});
    await rm(this.root, { recursive: true, force: true });
  }
}
