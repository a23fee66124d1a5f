import type { Config } from '@strata/core';
import type { CliIo } from './cli-io.ts';
import { dlqCommand } from './commands/dlq-command.ts';
import { healthCommand } from './commands/health-command.ts';
import { keyCommand } from './commands/key-command.ts';
import { partitionsCommand } from './commands/partitions-command.ts';

export const USAGE = `usage: pnpm ops <command>

commands:
  migrate                 create the database if missing and apply pending migrations
  tenant create <name>    create a tenant; prints {"tenant","apiKey"} (the key is shown once, scope all)
  tenant key <tenant-id> [--scope write|read|all] [--device <name>]
                          issue a further key (default scope all), optionally bound to one device;
                          prints {"keyId","apiKey","scope","device"}
  key list <tenant-id>    the tenant's keys, one JSON line each (no secrets)
  key revoke <key-id>     revoke a key; every running process refuses it within a second
  health                  JSON health report; exits 1 when unhealthy
  partitions [--json]     list event history partitions with estimated rows and size
  dlq list                dead letters: events the database refused, one JSON line each with the reason
  dlq retry <id>...|--all project dead letters again (through the projector); keeps those still refused
  dlq drop <id>...|--all  give dead letters up for good
  dlq jobs list|retry|drop
                          BullMQ's failed set: jobs with an invalid payload, or out of attempts
  replica [--name r1] [--port 5433] [--stop|--remove|--status]
                          local streaming replica of DATABASE_URL; prints its URL
  stack                   run the whole system locally (what \`pnpm start\` does)
  serve                   run the ops service (schedules, heartbeat, metrics)
`;

/** `pnpm ops <command>`: runs one command and returns the process exit code (2 = usage error). */
export async function runCli(argv: string[], config: Config, io: CliIo): Promise<number> {
  const [command, ...args] = argv;
  try {
    switch (command) {
      // Loaded on demand, here and below: main.ts imports this file, and the ops service must not
      // load the migration runner, tenant creation or the process-spawning stack at start-up (0069).
      case 'migrate':
        return await (await import('./commands/migrate-command.ts')).migrateCommand(config, io);
      case 'tenant':
        return await (await import('./commands/tenant-command.ts')).tenantCommand(args, config, io);
      case 'key':
        return await keyCommand(args, config, io);
      case 'health':
        return await healthCommand(config, io);
      case 'partitions':
        return await partitionsCommand(args, config, io);
      case 'dlq':
        return await dlqCommand(args, config, io);
      case 'replica':
        return await (await import('./commands/replica-command.ts')).replicaCommand(args, config, io);
      case 'stack':
        return await (await import('./stack/run-stack.ts')).runStack(config, io);
      case 'help':
      case '--help':
      case '-h':
        io.stdout.write(USAGE);
        return 0;
      default:
        io.stderr.write(command === undefined ? USAGE : `unknown command: ${command}\n\n${USAGE}`);
        return 2;
    }
  } catch (error) {
    io.stderr.write(`ops ${command}: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}
