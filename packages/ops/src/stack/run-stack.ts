import { resolve } from 'node:path';
import { createLogger, type Config } from '@strata/core';
import type { PrivateServer } from '@strata/devstack';
import { ensureDatabase } from '../migrations/ensure-database.ts';
import { runMigrations } from '../migrations/run-migrations.ts';
import type { CliIo } from '../cli-io.ts';
import { provideServers } from './provide-servers.ts';
import { ServiceProcess, type ServiceExit } from './service-process.ts';
import { stackBanner } from './stack-banner.ts';
import { partitionByPresence, stackServices } from './stack-services.ts';

/** How long services get to drain after SIGTERM before they are killed. */
const SERVICE_STOP_TIMEOUT_MS = 20_000;

/**
 * `pnpm start`: PostgreSQL and Redis (private ones if none answer), migrations, then the four
 * services as child processes until Ctrl-C (exit 0) or until one of them dies (exit 1).
 */
export async function runStack(config: Config, io: CliIo): Promise<number> {
  const say = (line: string): void => void io.stdout.write(`[stack] ${line}\n`);
  const warn = (line: string): void => void io.stderr.write(`[stack] ${line}\n`);
  const signal = io.signal ?? new AbortController().signal;
  const provided = await provideServers(config, resolve(config.dataDir), say);
  let services: ServiceProcess[] = [];
  let code = 0;
  try {
    if (await ensureDatabase(provided.databaseUrl)) say('created the database');
    const applied = await runMigrations(provided.databaseUrl, createLogger('stack', 'silent'));
    say(applied.length ? `applied migrations: ${applied.join(', ')}` : 'database schema is up to date');
    if (signal.aborted) return 0;
    services = startServices(config, io, provided.databaseUrl, provided.redisUrl, warn);
    io.stdout.write(stackBanner(config, provided.databaseUrl, provided.redisUrl));
    const ended = await waitForStopOrExit(signal, services);
    if (ended) {
      warn(`${ended.name} exited unexpectedly (${ended.signal ?? `code ${ended.code}`}); stopping everything`);
      code = 1;
    } else say('stopping');
  } catch (error) {
    warn(`failed: ${error instanceof Error ? error.message : String(error)}`);
    code = 1;
  } finally {
    await Promise.all(services.map((service) => service.stop(SERVICE_STOP_TIMEOUT_MS)));
    await stopServers(provided.started, say, warn);
  }
  say('stopped');
  return code;
}

function startServices(
  config: Config,
  io: CliIo,
  databaseUrl: string,
  redisUrl: string,
  warn: (line: string) => void,
): ServiceProcess[] {
  const { present, missing } = partitionByPresence(stackServices());
  for (const spec of missing) warn(`${spec.name}: ${spec.script} does not exist yet; not started`);
  const env = { ...io.env, DATABASE_URL: databaseUrl, REDIS_URL: redisUrl };
  const width = Math.max(...present.map((spec) => spec.name.length));
  return present.map((spec) => new ServiceProcess(spec, env, io, width));
}

/** Resolves undefined when the stack is asked to stop, or with the first service that exits on its own. */
async function waitForStopOrExit(signal: AbortSignal, services: ServiceProcess[]): Promise<ServiceExit | undefined> {
  if (signal.aborted) return undefined;
  const stopRequested = new Promise<undefined>((resolve) => signal.addEventListener('abort', () => resolve(undefined), { once: true }));
  return Promise.race([stopRequested, ...services.map((service) => service.exited)]);
}

async function stopServers(servers: PrivateServer[], say: (line: string) => void, warn: (line: string) => void): Promise<void> {
  for (const server of [...servers].reverse()) {
    try {
      await server.stop();
      say(`stopped the private ${server.kind === 'postgres' ? 'PostgreSQL' : 'Redis'}`);
    } catch (error) {
      warn(`could not stop the private ${server.kind}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}
