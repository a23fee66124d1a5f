import { spawnSync } from 'node:child_process';

/** Whether a `redis-server` binary can be started from PATH. */
export function hasRedisServer(command = 'redis-server'): boolean {
  const result = spawnSync(command, ['--version'], { stdio: 'ignore', timeout: 5000 });
  return result.error === undefined && result.status === 0;
}
