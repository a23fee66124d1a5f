import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger, createPool, type Pool } from '@strata/core';
import { createTenant, ensureDatabase, runMigrations } from '@strata/testkit';
import { freePort } from '../support/free-port.ts';
import { startServiceProcess, waitUntilReady, type ServiceName, type ServiceProcess } from '../support/start-service-process.ts';
import { PrivateStores } from './private-stores.ts';

/** The services the fault suite runs (query-api serves reads only and plays no part in durability). */
export type FaultService = Extract<ServiceName, 'ops' | 'projector' | 'command-api'>;
const SERVICES: FaultService[] = ['ops', 'projector', 'command-api'];
const PORT_VARIABLE: Record<FaultService, string> = { ops: 'OPS_PORT', projector: 'PROJECTOR_METRICS_PORT', 'command-api': 'COMMAND_API_PORT' };

/**
 * A private PostgreSQL and Redis plus the Strata services as separate OS processes, each of which
 * the scenarios may kill (-9), terminate (SIGTERM) and restart.
 */
export class FaultWorld {
  readonly stores: PrivateStores;
  readonly db: Pool;
  readonly #env: Record<string, string>;
  readonly #ports: Record<FaultService, number>;
  readonly #processes = new Map<FaultService, ServiceProcess>();

  private constructor(stores: PrivateStores, db: Pool, env: Record<string, string>, ports: Record<FaultService, number>) {
    this.stores = stores;
    this.db = db;
    this.#env = env;
    this.#ports = ports;
  }

  static async start(): Promise<FaultWorld> {
    const stores = await PrivateStores.start();
    try {
      await ensureDatabase(stores.databaseUrl);
      await runMigrations(stores.databaseUrl, createLogger('faults', 'silent'));
      const ports = { ops: await freePort(), projector: await freePort(), 'command-api': await freePort() };
      const env: Record<string, string> = {
        DATABASE_URL: stores.databaseUrl,
        REDIS_URL: stores.redisUrl,
        CACHE_REDIS_URL: stores.redisUrl,
        REDIS_PREFIX: 'strata',
        LOG_LEVEL: 'error',
        // Find jobless staged batches within seconds rather than the production 30 s.
        STAGING_SWEEP_AGE_MS: '5000',
        STAGING_SWEEP_INTERVAL_MS: '1000',
        // The per-tenant limits are on by default; this load is one tenant far above them, on purpose.
        INGEST_RATE_LIMIT_EVENTS_PER_SECOND: '0',
        READ_RATE_LIMIT_PER_SECOND: '0',
        AUTH_FAILURES_PER_MINUTE: '0',
        ...Object.fromEntries(SERVICES.map((name) => [PORT_VARIABLE[name], String(ports[name])])),
      };
      const db = createPool({ connectionString: stores.databaseUrl, max: 4, applicationName: 'strata-faults', connectionTimeoutMs: 2000 }, createLogger('faults', 'silent'));
      const world = new FaultWorld(stores, db, env, ports);
      for (const name of SERVICES) await world.startService(name);
      return world;
    } catch (error) {
      await stores.stop();
      throw error;
    }
  }

  url(name: FaultService): string {
    return `http://127.0.0.1:${this.#ports[name]}`;
  }

  process(name: FaultService): ServiceProcess {
    const service = this.#processes.get(name);
    if (!service) throw new Error(`${name} is not running`);
    return service;
  }

  async startService(name: FaultService): Promise<void> {
    const service = startServiceProcess(name, this.#env);
    this.#processes.set(name, service);
    await waitUntilReady(`${this.url(name)}/readyz`, service, 60_000);
  }

  /** Sends `signal` and resolves with how the process ended and how long it took. */
  async signal(name: FaultService, signal: NodeJS.Signals): Promise<{ exit: number | string; ms: number }> {
    const service = this.process(name);
    const started = Date.now();
    service.child.kill(signal);
    const exit = await service.exited;
    return { exit, ms: Date.now() - started };
  }

  /** The sum of a metric's samples on a service's /metrics (0 when absent or unreachable). */
  async metric(name: FaultService, metric: string, labelFilter = ''): Promise<number> {
    try {
      const text = await (await fetch(`${this.url(name)}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
      return text
        .split('\n')
        .filter((line) => line.startsWith(metric) && line.includes(labelFilter) && !line.startsWith('#'))
        .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
    } catch {
      return 0;
    }
  }

  async createTenant(name: string): Promise<{ tenant: string; apiKey: string }> {
    return createTenant(this.db, name);
  }

  /** A query that waits out a PostgreSQL restart instead of failing on it. */
  async query<T extends object>(text: string, values: unknown[] = [], timeoutMs = 60_000): Promise<T[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        return (await this.db.query(text, values)).rows as T[];
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await sleep(200);
      }
    }
  }

  async stop(): Promise<void> {
    for (const service of this.#processes.values()) {
      if (service.child.exitCode !== null || service.child.signalCode !== null) continue;
      service.child.kill('SIGTERM');
      const timer = setTimeout(() => service.child.kill('SIGKILL'), 20_000);
      await service.exited;
      clearTimeout(timer);
    }
    await this.db.end().catch(() => {});
    await this.stores.stop();
  }
}
