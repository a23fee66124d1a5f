import { freePort } from './free-port.ts';
import { startServiceProcess, type ServiceName, type ServiceProcess } from './start-service-process.ts';
import { waitUntilReady } from './wait-until-ready.ts';

const PORT_VARIABLE: Record<ServiceName, string> = {
  ops: 'OPS_PORT',
  projector: 'PROJECTOR_METRICS_PORT',
  'command-api': 'COMMAND_API_PORT',
  'query-api': 'QUERY_API_PORT',
};

export interface LaunchSystemOptions {
  /** A migrated database. */
  databaseUrl: string;
  redisUrl: string;
  /** Defaults to `redisUrl`. */
  cacheRedisUrl?: string;
  redisPrefix: string;
  /** Which services, started in this order; all four by default. */
  services?: ServiceName[];
  /** LOG_LEVEL; `warn` by default. */
  logLevel?: string;
  /** More variables for every service, over the defaults. */
  env?: Record<string, string>;
  /** Node flags per service (the bench's `--profile`). */
  nodeArgs?: (name: ServiceName) => string[];
  /** Where each service's output also goes (the bench's `--logs`); kept only in memory by default. */
  log?: (name: ServiceName) => { write(chunk: string): void } | undefined;
  /** How long a starting service may take to answer /readyz. */
  readyTimeoutMs?: number;
  /** How long a stopping service may drain after SIGTERM before it is killed. */
  stopTimeoutMs?: number;
}

/**
 * Strata's services as OS processes, each on a port of its own, exactly as a user runs them (the
 * e2e tests, the probes, the fault suite and the bench): each may be signalled, stopped and
 * started again on the same port.
 */
export class RunningSystem {
  /** Base URL per service; every service's port is in every service's environment. */
  readonly urls: Record<ServiceName, string>;
  readonly #env: Record<string, string>;
  readonly #options: LaunchSystemOptions;
  readonly #processes = new Map<ServiceName, ServiceProcess>();

  constructor(options: LaunchSystemOptions, ports: Record<ServiceName, number>) {
    this.#options = options;
    const names = Object.keys(ports) as ServiceName[];
    this.urls = Object.fromEntries(names.map((name) => [name, `http://127.0.0.1:${ports[name]}`])) as Record<ServiceName, string>;
    this.#env = {
      DATABASE_URL: options.databaseUrl,
      REDIS_URL: options.redisUrl,
      CACHE_REDIS_URL: options.cacheRedisUrl ?? options.redisUrl,
      REDIS_PREFIX: options.redisPrefix,
      LOG_LEVEL: options.logLevel ?? 'warn',
      // The per-tenant limits are on by default; test and bench loads are one tenant far above them.
      INGEST_RATE_LIMIT_EVENTS_PER_SECOND: '0',
      INGEST_RATE_LIMIT_BYTES_PER_SECOND: '0',
      READ_RATE_LIMIT_PER_SECOND: '0',
      AUTH_FAILURES_PER_MINUTE: '0',
      // The MQTT listener is off unless asked for (MQTT_PORT in `env`): its default port is one per machine.
      MQTT_PORT: '0',
      ...Object.fromEntries(names.map((name) => [PORT_VARIABLE[name], String(ports[name])])),
      ...options.env,
    };
  }

  /** The running process of `name` (the latest, after a restart). */
  process(name: ServiceName): ServiceProcess {
    const service = this.#processes.get(name);
    if (!service) throw new Error(`${name} is not running`);
    return service;
  }

  /** Starts `name` (again, after it was stopped or killed) and waits until it is ready. */
  async start(name: ServiceName): Promise<void> {
    await this.#ready(this.#spawn(name));
  }

  /** Starts every service at once, then waits until all are ready; on a failure stops them all. */
  async startAll(): Promise<void> {
    const started = Object.keys(this.urls).map((name) => this.#spawn(name as ServiceName));
    try {
      await Promise.all(started.map((service) => this.#ready(service)));
    } catch (error) {
      await this.stop();
      throw error;
    }
  }

  /** Stops every service still running: SIGTERM, SIGKILL after the stop timeout. */
  async stop(): Promise<void> {
    await Promise.all([...this.#processes.values()].map((service) => service.stop(this.#options.stopTimeoutMs ?? 10_000)));
  }

  #spawn(name: ServiceName): ServiceProcess {
    const service = startServiceProcess(name, this.#env, { nodeArgs: this.#options.nodeArgs?.(name) ?? [], log: this.#options.log?.(name) });
    this.#processes.set(name, service);
    return service;
  }

  #ready(service: ServiceProcess): Promise<void> {
    return waitUntilReady(`${this.urls[service.name]}/readyz`, service, this.#options.readyTimeoutMs);
  }
}

/** Picks a free port per service, starts them all and waits until each is ready. */
export async function launchSystem(options: LaunchSystemOptions): Promise<RunningSystem> {
  const names = options.services ?? ['ops', 'projector', 'command-api', 'query-api'];
  const ports = {} as Record<ServiceName, number>;
  for (const name of names) ports[name] = await freePort();
  const system = new RunningSystem(options, ports);
  await system.startAll();
  return system;
}
