import { parseArgs } from 'node:util';
import { REPLICAS_PATH, type Config } from '@strata/core';
import {
  checkReplicationAccess,
  isPostgresUp,
  removeStreamingReplica,
  REPLICA_NAME_PATTERN,
  replicaDataDir,
  startStreamingReplica,
  stopPostgresCluster,
} from '@strata/devstack';
import type { CliIo } from '../cli-io.ts';

const USAGE = 'usage: pnpm ops replica [--name r1] [--port 5433] [--stop | --remove | --status]';

/**
 * `pnpm ops replica`: a local streaming replica of DATABASE_URL's cluster for development and tests,
 * under STRATA_DATA_DIR/replicas/<name>, listening on loopback only. Prints its URL (one line), to
 * put in DATABASE_REPLICA_URLS as `<name>=<url>`. `--stop` stops it, `--remove` also drops its
 * replication slot and data, `--status` prints what the local query-api's router thinks of replicas.
 */
export async function replicaCommand(args: string[], config: Config, io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      name: { type: 'string', default: 'r1' },
      port: { type: 'string', default: '5433' },
      stop: { type: 'boolean', default: false },
      remove: { type: 'boolean', default: false },
      status: { type: 'boolean', default: false },
    },
  });
  const name = values.name;
  const port = Number(values.port);
  if (!REPLICA_NAME_PATTERN.test(name) || !Number.isInteger(port) || port < 1 || port > 65535) {
    io.stderr.write(`${USAGE}\n  --name: 1-40 characters of [a-z0-9_]; --port: 1-65535\n`);
    return 2;
  }
  if (values.status) return printRouterView(config, io);
  const dataDir = replicaDataDir(config.dataDir, name);
  if (values.stop) {
    io.stdout.write((await stopPostgresCluster(dataDir)) ? `replica ${name} stopped\n` : `replica ${name} was not running\n`);
    return 0;
  }
  if (values.remove) {
    await removeStreamingReplica({ primaryUrl: config.databaseUrl, name, dataDir });
    io.stdout.write(`replica ${name} removed (data and replication slot)\n`);
    return 0;
  }

  const problems = await checkReplicationAccess(config.databaseUrl);
  if (problems.length > 0) {
    io.stderr.write(`cannot start a streaming replica of ${redact(config.databaseUrl)}:\n${problems.map((p) => `- ${p}`).join('\n')}\n`);
    return 1;
  }
  const replica = await startStreamingReplica({ primaryUrl: config.databaseUrl, name, dataDir, port });
  if (!(await isPostgresUp(replica.url))) throw new Error(`replica ${name} started but does not answer at ${replica.url}`);
  io.stdout.write(`${replica.url}\n`);
  return 0;
}

async function printRouterView(config: Config, io: CliIo): Promise<number> {
  const url = `http://${config.host}:${config.queryApiPort}${REPLICAS_PATH}`;
  const response = await fetch(url, { signal: AbortSignal.timeout(3000) });
  io.stdout.write(`${JSON.stringify(await response.json(), null, 2)}\n`);
  return response.ok ? 0 : 1;
}

function redact(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}
