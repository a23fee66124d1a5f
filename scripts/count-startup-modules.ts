// How many modules each service loads before it answers /livez, and whether migration or
// process-spawning code is among them (decision 0069 records the numbers before and after the split
// of @strata/core). Run: `pnpm exec node scripts/count-startup-modules.ts [service...] [--json]`.
//
// The same file plays two parts. Run directly, it migrates a throwaway database, starts each
// service's main.ts with `--import` of this file on a throwaway Redis prefix and free ports, waits
// for /livez, asks the child for its counts over IPC, stops it, and drops what it created. Loaded
// through `--import` in the child, it counts every module the child loads (import and require both
// pass through module.registerHooks) until asked. So this file imports only builtins statically:
// anything else it loaded in the child would be cached before the hooks could count it.
import { spawn, type ChildProcess } from 'node:child_process';
import { registerHooks } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

interface StartupModules {
  /** Every module file loaded (workspace and node_modules), builtins apart. */
  total: number;
  workspace: number;
  dependencies: number;
  /** The node_modules packages those dependency files belong to, by name. */
  dependencyPackages: string[];
  builtins: number;
  /** Files of node-pg-migrate (the migration runner) that were loaded. */
  nodePgMigrate: number;
  /** Workspace files that import node:child_process. */
  workspaceSpawners: string[];
}

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const SERVICES: Record<string, { main: string; args: string[]; portVariable: string }> = {
  'command-api': { main: 'packages/command-api/src/main.ts', args: [], portVariable: 'COMMAND_API_PORT' },
  projector: { main: 'packages/projector/src/main.ts', args: [], portVariable: 'PROJECTOR_METRICS_PORT' },
  'query-api': { main: 'packages/query-api/src/main.ts', args: [], portVariable: 'QUERY_API_PORT' },
  ops: { main: 'packages/ops/src/main.ts', args: ['serve'], portVariable: 'OPS_PORT' },
};
const PORT_VARIABLES = Object.values(SERVICES).map((service) => service.portVariable);

if (import.meta.main) await measureAll(process.argv.slice(2));
else countInThisProcess();

function countInThisProcess(): void {
  const loaded = new Set<string>();
  const spawners = new Set<string>();
  registerHooks({
    resolve(specifier, context, nextResolve) {
      if ((specifier === 'node:child_process' || specifier === 'child_process') && context.parentURL) {
        spawners.add(context.parentURL);
      }
      return nextResolve(specifier, context);
    },
    load(url, context, nextLoad) {
      loaded.add(url);
      return nextLoad(url, context);
    },
  });
  process.on('message', (message) => {
    if (message !== 'report') return;
    const files = [...loaded].filter((url) => url.startsWith('file:')).map((url) => fileURLToPath(url));
    const inDependencies = (file: string): boolean => file.includes('/node_modules/');
    const report: StartupModules = {
      total: files.length,
      workspace: files.filter((file) => !inDependencies(file)).length,
      dependencies: files.filter(inDependencies).length,
      dependencyPackages: [...new Set(files.filter(inDependencies).map(packageName))].sort(),
      builtins: [...loaded].filter((url) => url.startsWith('node:')).length,
      nodePgMigrate: files.filter((file) => file.includes('/node-pg-migrate/')).length,
      workspaceSpawners: [...spawners]
        .filter((url) => url.startsWith('file:') && !url.includes('/node_modules/'))
        .map((url) => relative(ROOT, fileURLToPath(url)))
        .sort(),
    };
    process.send?.(report);
  });
}

/** `.../node_modules/@scope/name/lib/x.js` → `@scope/name` (the innermost node_modules wins). */
function packageName(file: string): string {
  const parts = file.slice(file.lastIndexOf('/node_modules/') + '/node_modules/'.length).split('/');
  return parts[0]?.startsWith('@') ? `${parts[0]}/${parts[1]}` : (parts[0] as string);
}

async function measureAll(argv: string[]): Promise<void> {
  const json = argv.includes('--json');
  const names = argv.filter((arg) => !arg.startsWith('--'));
  const unknown = names.filter((name) => !(name in SERVICES));
  if (unknown.length > 0) throw new Error(`unknown service(s): ${unknown.join(', ')}; known: ${Object.keys(SERVICES).join(', ')}`);
  const suffix = `${process.pid}_${Date.now().toString(36)}`;
  const databaseUrl = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
  databaseUrl.pathname = `/strata_modcount_${suffix}`;
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    DATABASE_URL: databaseUrl.toString(),
    REDIS_PREFIX: `modcount_${suffix}`,
    LOG_LEVEL: 'warn',
    ...Object.fromEntries(PORT_VARIABLES.map((name) => [name, '0'])),
  };
  const results: Record<string, StartupModules> = {};
  try {
    // The ops CLI creates the database when missing and migrates it, before and after any refactor.
    await runToEnd(spawn(process.execPath, [join(ROOT, 'packages/ops/src/main.ts'), 'migrate'], { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'inherit'] }));
    for (const name of names.length > 0 ? names : Object.keys(SERVICES)) {
      results[name] = await measureService(name, env);
    }
  } finally {
    await dropThrowaways(databaseUrl, env.REDIS_PREFIX as string, env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  }
  if (json) process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
  else printTable(results);
}

async function measureService(name: string, baseEnv: Record<string, string>): Promise<StartupModules> {
  const service = SERVICES[name] as (typeof SERVICES)[string];
  const { freePort } = await import('@strata/testkit');
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', import.meta.url, join(ROOT, service.main), ...service.args], {
    cwd: ROOT,
    env: { ...baseEnv, [service.portVariable]: String(port) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  try {
    await waitForLivez(port, child, name);
    // Work a service schedules right after listening (a first loop tick) belongs to start-up too.
    await sleep(1000);
    return await new Promise<StartupModules>((resolve, reject) => {
      child.once('message', (message) => resolve(message as StartupModules));
      child.once('exit', (code) => reject(new Error(`${name} exited (${code}) before reporting`)));
      child.send('report');
    });
  } finally {
    await stop(child);
  }
}

async function waitForLivez(port: number, child: ChildProcess, name: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode} while starting`);
    const answered = await fetch(`http://127.0.0.1:${port}/livez`).then((response) => response.ok, () => false);
    if (answered) return;
    await sleep(100);
  }
  throw new Error(`${name} did not answer /livez on port ${port} within 30 s`);
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

async function runToEnd(child: ChildProcess): Promise<void> {
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`${child.spawnargs.join(' ')} exited with ${code}`);
}

async function dropThrowaways(databaseUrl: URL, prefix: string, redisUrl: string): Promise<void> {
  const { default: pg } = await import('pg');
  const { Redis } = await import('ioredis');
  const { deleteKeysWithPrefix } = await import('@strata/testkit');
  const admin = new URL(databaseUrl);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${databaseUrl.pathname.slice(1)} WITH (FORCE)`);
  } finally {
    await client.end();
  }
  const redis = new Redis(redisUrl);
  try {
    await deleteKeysWithPrefix(redis, prefix);
  } finally {
    redis.disconnect();
  }
}

function printTable(results: Record<string, StartupModules>): void {
  const lines = ['service       total  workspace  node_modules (packages)  builtins  node-pg-migrate  workspace files importing child_process'];
  for (const [name, r] of Object.entries(results)) {
    lines.push(
      `${name.padEnd(12)} ${String(r.total).padStart(6)} ${String(r.workspace).padStart(10)} ${String(r.dependencies).padStart(13)} ${`(${r.dependencyPackages.length})`.padStart(10)} ` +
        `${String(r.builtins).padStart(9)} ${String(r.nodePgMigrate).padStart(16)}  ${r.workspaceSpawners.join(', ') || '-'}`,
    );
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}
