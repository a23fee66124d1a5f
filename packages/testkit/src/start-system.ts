import type { Config } from '@strata/core';
import { createTestEnvironment, type Teardownable } from './create-test-environment.ts';
import { launchSystem, type RunningSystem } from './launch-system.ts';
import type { ServiceName } from './start-service-process.ts';

export interface TestSystem {
  /** The private database and Redis prefix the processes run on. */
  config: Config;
  urls: Record<ServiceName, string>;
  /** The processes, to signal, stop or restart one of them. */
  services: RunningSystem;
}

/**
 * The whole system as four real OS processes on a private database and Redis prefix, stopped at
 * teardown: what a user runs, so tests see exactly the behaviour they get.
 */
export async function startSystem(t: Teardownable, overrides: Partial<Config> = {}, extraEnv: Record<string, string> = {}): Promise<TestSystem> {
  const { config } = await createTestEnvironment(t, overrides);
  const services = await launchSystem({
    databaseUrl: config.databaseUrl,
    redisUrl: config.redisUrl,
    cacheRedisUrl: config.cacheRedisUrl,
    redisPrefix: config.redisPrefix,
    env: { INGEST_MAX_WAIT_MS: String(config.ingestMaxWaitMs), ...extraEnv },
  });
  t.teardown(() => services.stop());
  return { config, urls: services.urls, services };
}
