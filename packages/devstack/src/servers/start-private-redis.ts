import { spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { isRedisUp } from './is-redis-up.ts';
import type { PrivateServer } from './private-server.ts';
import { readLogTail } from './read-log-tail.ts';

export interface PrivateRedisOptions {
  dataDir: string;
  port: number;
  host?: string;
  command?: string;
  startTimeoutMs?: number;
}

/**
 * Starts a Redis server of our own with the settings BullMQ needs to keep acknowledged jobs:
 * an append-only file synced every second, and `noeviction` (an evicted job is a lost batch).
 */
export async function startPrivateRedis(options: PrivateRedisOptions): Promise<PrivateServer> {
  const host = options.host ?? '127.0.0.1';
  const dataDir = resolve(options.dataDir);
  await mkdir(dataDir, { recursive: true });
  const logFile = join(dataDir, 'redis.log');
  const args = [
    '--port', String(options.port),
    '--bind', host,
    '--dir', dataDir,
    '--appendonly', 'yes',
    '--appendfsync', 'everysec',
    '--maxmemory-policy', 'noeviction',
    '--daemonize', 'no',
    '--logfile', logFile,
  ];
  // Own process group: a terminal Ctrl-C must not kill it before the services have drained.
  const child = spawn(options.command ?? 'redis-server', args, { detached: true, stdio: 'ignore' });
  let exited = false;
  // 'error' (binary missing) may come instead of 'exit'; either way the server is gone.
  const exit = new Promise<void>((done) => {
    child.once('exit', () => done());
    child.once('error', () => done());
  }).then(() => {
    exited = true;
  });
  const url = `redis://${host}:${options.port}`;
  const deadline = Date.now() + (options.startTimeoutMs ?? 10_000);
  while (!(await isRedisUp(url, 500))) {
    if (exited || Date.now() > deadline) {
      if (!exited) child.kill('SIGKILL');
      throw new Error(`Redis did not start on ${host}:${options.port}:\n${await readLogTail(logFile)}`);
    }
    await sleep(100);
  }

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      if (exited) return;
      const redis = new Redis(url, { maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: true });
      redis.on('error', () => {});
      // SHUTDOWN flushes the append-only file; the server closes the connection instead of answering.
      await redis.connect().then(() => redis.shutdown()).catch(() => {});
      redis.disconnect();
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exit;
      clearTimeout(timer);
    })();
    return stopped;
  };
  return { kind: 'redis', host, port: options.port, dataDir, stop };
}
