import { createLogger, type Config } from '@strata/core';
import { ensureDatabase } from '../migrations/ensure-database.ts';
import { runMigrations } from '../migrations/run-migrations.ts';
import type { CliIo } from '../cli-io.ts';

/** Creates the database when missing, applies pending migrations, prints each applied name. */
export async function migrateCommand(config: Config, io: CliIo): Promise<number> {
  if (await ensureDatabase(config.databaseUrl)) io.stderr.write(`created database ${new URL(config.databaseUrl).pathname.slice(1)}\n`);
  const applied = await runMigrations(config.databaseUrl, createLogger('ops', 'silent'));
  for (const name of applied) io.stdout.write(`${name}\n`);
  if (applied.length === 0) io.stderr.write('no pending migrations\n');
  return 0;
}
