import { join } from 'node:path';
import type { Config } from '@strata/core';
import {
  findPostgresBinDir,
  hasRedisServer,
  isPostgresUp,
  isRedisUp,
  startPrivatePostgres,
  startPrivateRedis,
  type PrivateServer,
} from '@strata/devstack';
import { isLoopbackHost } from './is-loopback-host.ts';

export interface ProvidedServers {
  databaseUrl: string;
  redisUrl: string;
  /** Servers started here, in start order; the stack stops them in reverse. */
  started: PrivateServer[];
}

/**
 * Uses the PostgreSQL and Redis the configuration names when they answer; otherwise, when the
 * address is local and the server binaries are installed, starts private ones under `dataDir`
 * (the embedded default that lets a newcomer run `pnpm start` with nothing set up).
 */
export async function provideServers(config: Config, dataDir: string, say: (line: string) => void): Promise<ProvidedServers> {
  const started: PrivateServer[] = [];
  try {
    const databaseUrl = await providePostgres(config.databaseUrl, join(dataDir, 'postgres'), started, say);
    const redisUrl = await provideRedis(config.redisUrl, join(dataDir, 'redis'), started, say);
    return { databaseUrl, redisUrl, started };
  } catch (error) {
    for (const server of started.reverse()) await server.stop().catch(() => {});
    throw error;
  }
}

async function providePostgres(url: string, dataDir: string, started: PrivateServer[], say: (line: string) => void): Promise<string> {
  if (await isPostgresUp(url)) return url;
  const parsed = new URL(url);
  const binDir = findPostgresBinDir();
  if (!isLoopbackHost(parsed.hostname) || !binDir) {
    throw new Error(`no PostgreSQL answers at ${parsed.host}${binDir ? '' : ' and no server binaries are installed to start one'}`);
  }
  // The private cluster's superuser is the URL's user, or `postgres` (then written into the URL,
  // because without a user the client would send $USER, which may be unset or unknown).
  if (parsed.username === '') parsed.username = 'postgres';
  const port = Number(parsed.port || 5432);
  say(`starting a private PostgreSQL on 127.0.0.1:${port} (data in ${dataDir})`);
  started.push(await startPrivatePostgres({ dataDir, port, superuser: decodeURIComponent(parsed.username), binDir }));
  return parsed.toString();
}

async function provideRedis(url: string, dataDir: string, started: PrivateServer[], say: (line: string) => void): Promise<string> {
  if (await isRedisUp(url)) return url;
  const parsed = new URL(url);
  if (!isLoopbackHost(parsed.hostname) || !hasRedisServer()) {
    throw new Error(`no Redis answers at ${parsed.host}${isLoopbackHost(parsed.hostname) ? ' and redis-server is not installed' : ''}`);
  }
  const port = Number(parsed.port || 6379);
  say(`starting a private Redis on 127.0.0.1:${port} (data in ${dataDir})`);
  started.push(await startPrivateRedis({ dataDir, port }));
  return url;
}
