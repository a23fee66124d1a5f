import type { Config } from '@strata/core';
import { createTestEnvironment, type Teardownable } from '@strata/testkit';
import { freePort } from './free-port.ts';
import { startServiceProcess, waitUntilReady, type ServiceName, type ServiceProcess } from './start-service-process.ts';

export interface RunningSystem {
  config: Config;
  urls: Record<ServiceName, string>;
  processes: Record<ServiceName, ServiceProcess>;
}

/**
 * The whole system as four real OS processes on a private database and Redis prefix: what a user
 * runs, so tests see exactly the behaviour they get (and can kill any process later).
 */
export async function startSystem(t: Teardownable, overrides: Partial<Config> = {}, extraEnv: Record<string, string> = {}): Promise<RunningSystem> {
  const { config } = await createTestEnvironment(t, overrides);
  const ports = { 'command-api': await freePort(), 'query-api': await freePort(), ops: await freePort(), projector: await freePort() };
  const env: Record<string, string> = {
    DATABASE_URL: config.databaseUrl,
    REDIS_URL: config.redisUrl,
    CACHE_REDIS_URL: config.cacheRedisUrl,
    REDIS_PREFIX: config.redisPrefix,
    COMMAND_API_PORT: String(ports['command-api']),
    QUERY_API_PORT: String(ports['query-api']),
    OPS_PORT: String(ports.ops),
    PROJECTOR_METRICS_PORT: String(ports.projector),
    LOG_LEVEL: 'warn',
    INGEST_MAX_WAIT_MS: String(config.ingestMaxWaitMs),
    // The per-tenant limits are on by default; this load is one tenant far above them, on purpose.
    INGEST_RATE_LIMIT_EVENTS_PER_SECOND: '0',
    READ_RATE_LIMIT_PER_SECOND: '0',
    AUTH_FAILURES_PER_MINUTE: '0',
    ...extraEnv,
  };
  const names: ServiceName[] = ['ops', 'projector', 'command-api', 'query-api'];
  const processes = {} as Record<ServiceName, ServiceProcess>;
  const urls = {} as Record<ServiceName, string>;
  for (const name of names) {
    const service = startServiceProcess(name, env);
    processes[name] = service;
    urls[name] = `http://127.0.0.1:${ports[name]}`;
    t.teardown(async () => {
      if (service.child.exitCode === null) {
        service.child.kill('SIGTERM');
        const timer = setTimeout(() => service.child.kill('SIGKILL'), 10_000);
        await service.exited;
        clearTimeout(timer);
      }
    });
  }
  await Promise.all(names.map((name) => waitUntilReady(`${urls[name]}/readyz`, processes[name])));
  return { config, urls, processes };
}
