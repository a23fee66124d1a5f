import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger, createPool, type Pool } from '@strata/core';
import { createTenant, ensureDatabase, freePort, launchSystem, runMigrations, type RunningSystem, type ServiceName, type ServiceProcess } from '@strata/testkit';
import { PrivateStores } from './private-stores.ts';

/** The services the fault suite runs (query-api serves reads only and plays no part in durability). */
export type FaultService = Extract<ServiceName, 'ops' | 'projector' | 'command-api'>;

/**
 * A private PostgreSQL and Redis plus the Strata services as separate OS processes, each of which
 * the scenarios may kill (-9), terminate (SIGTERM) and restart.
 */
export class FaultWorld {
  readonly stores: PrivateStores;
  readonly db: Pool;
  /** command-api's MQTT listener (the same port after every restart). */
  readonly mqttUrl: string;
  readonly #services: RunningSystem;

  private constructor(stores: PrivateStores, db: Pool, services: RunningSystem, mqttPort: number) {
    this.stores = stores;
    this.db = db;
    this.#services = services;
    this.mqttUrl = `mqtt://127.0.0.1:${mqttPort}`;
  }

  static async start(): Promise<FaultWorld> {
    const stores = await PrivateStores.start();
    try {
      await ensureDatabase(stores.databaseUrl);
      await runMigrations(stores.databaseUrl, createLogger('faults', 'silent'));
      const mqttPort = await freePort();
      const services = await launchSystem({
        databaseUrl: stores.databaseUrl,
        redisUrl: stores.redisUrl,
        redisPrefix: 'strata',
        services: ['ops', 'projector', 'command-api'],
        logLevel: 'error',
        // Find jobless staged batches within seconds rather than the production 30 s.
        env: { STAGING_SWEEP_AGE_MS: '5000', STAGING_SWEEP_INTERVAL_MS: '1000', MQTT_PORT: String(mqttPort) },
        readyTimeoutMs: 60_000,
        stopTimeoutMs: 20_000,
      });
      const db = createPool({ connectionString: stores.databaseUrl, max: 4, applicationName: 'strata-faults', connectionTimeoutMs: 2000 }, createLogger('faults', 'silent'));
      return new FaultWorld(stores, db, services, mqttPort);
    } catch (error) {
      await stores.stop();
      throw error;
    }
  }

  url(name: FaultService): string {
    return this.#services.urls[name];
  }

  process(name: FaultService): ServiceProcess {
    return this.#services.process(name);
  }

  async startService(name: FaultService): Promise<void> {
    await this.#services.start(name);
  }

  /** Sends `signal` and resolves with how the process ended and how long it took. */
  async signal(name: FaultService, signal: NodeJS.Signals): Promise<{ exit: number | string; ms: number }> {
    const service = this.process(name);
    const started = Date.now();
    service.signal(signal);
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
    await this.#services.stop();
    await this.db.end().catch(() => {});
    await this.stores.stop();
  }
}
