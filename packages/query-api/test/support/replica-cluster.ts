import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, createPool, type Config, type Pool } from '@strata/core';
import {
  startPrivatePostgres,
  startPrivateRedis,
  startStreamingReplica,
  type PrivateServer,
  type StreamingReplica,
} from '@strata/devstack';
import { freePort, startSystem, type TestSystem } from '@strata/testkit';
import type { QueryDeps } from '../../src/deps.ts';
import { startTestService } from '../helpers.ts';
import type { FastifyInstance } from 'fastify';

interface Test {
  teardown(fn: () => unknown): void;
}

export interface ReplicaCluster {
  system: TestSystem;
  /** The test database on the private primary. */
  primary: Pool;
  replicas: Record<'r1' | 'r2', { server: StreamingReplica; url: string; pool: Pool }>;
  cacheRedis: { url: string; server: PrivateServer; restart(): Promise<void> };
  /** A query-api in this process routing over the named replicas (all when omitted). */
  queryApi(names?: ('r1' | 'r2')[]): Promise<{ app: FastifyInstance; deps: QueryDeps }>;
}

/**
 * A private primary (initdb's pg_hba allows loopback replication, so nothing depends on the system
 * cluster's pg_hba) with two real streaming replicas, the real command-api, projector and ops (for
 * writes, tokens and the heartbeat) on it, and a private Redis for the query-api's cache.
 */
export async function startReplicaCluster(t: Test): Promise<ReplicaCluster> {
  const root = await mkdtemp(join(tmpdir(), 'strata-replicas-'));
  await chmod(root, 0o755); // the postgres OS user must reach the data directories
  t.teardown(() => rm(root, { recursive: true, force: true }));
  const primaryServer = await startPrivatePostgres({ dataDir: join(root, 'primary'), port: await freePort() });
  t.teardown(() => primaryServer.stop());
  const adminUrl = `postgres://postgres@127.0.0.1:${primaryServer.port}/postgres`;

  // Replicas first: the test database created next reaches them by streaming, like any change.
  const servers = {} as Record<'r1' | 'r2', StreamingReplica>;
  for (const name of ['r1', 'r2'] as const) {
    const server = await startStreamingReplica({ primaryUrl: adminUrl, name, dataDir: join(root, name), port: await freePort() });
    t.teardown(() => server.stop('immediate'));
    servers[name] = server;
  }
  const redisServer = await startPrivateRedis({ dataDir: join(root, 'redis'), port: await freePort() });
  t.teardown(() => redisServer.stop());
  const cacheRedis = {
    url: `redis://127.0.0.1:${redisServer.port}`,
    server: redisServer,
    restart: async () => {
      cacheRedis.server = await startPrivateRedis({ dataDir: join(root, 'redis'), port: redisServer.port });
      t.teardown(() => cacheRedis.server.stop());
    },
  };

  const system = await startSystem(t, { databaseUrl: adminUrl, ingestMaxWaitMs: 2 });
  const logger = createLogger('test', 'silent');
  const primary = createPool({ connectionString: system.config.databaseUrl, max: 4, applicationName: 'test' }, logger);
  t.teardown(() => primary.end());
  const database = new URL(system.config.databaseUrl).pathname;
  const replicas = {} as ReplicaCluster['replicas'];
  for (const name of ['r1', 'r2'] as const) {
    const url = `postgres://postgres@127.0.0.1:${servers[name].port}${database}`;
    const pool = createPool({ connectionString: url, max: 2, applicationName: 'test' }, logger);
    pool.on('error', () => {}); // replicas are stopped on purpose in these tests
    t.teardown(() => pool.end());
    replicas[name] = { server: servers[name], url, pool };
  }

  const queryApi = async (names: ('r1' | 'r2')[] = ['r1', 'r2']) => {
    const targets = names.map((name) => ({ name, url: replicas[name].url }));
    const config: Config = {
      ...system.config,
      replicas: targets,
      replicaUrls: targets.map((r) => r.url),
      cacheRedisUrl: cacheRedis.url,
      logLevel: 'silent',
      host: '127.0.0.1',
      queryApiPort: 0,
    };
    const { app, deps } = await startTestService(t, config);
    return { app, deps };
  };
  return { system, primary, replicas, cacheRedis, queryApi };
}

/** Polls `check` every 20 ms until it returns true, or fails after `timeoutMs`. */
export async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 15_000): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    if (await check().catch(() => false)) return Date.now() - started;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`${what}: not within ${timeoutMs} ms`);
}
