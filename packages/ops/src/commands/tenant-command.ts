import { createTenant, issueApiKey, type Config } from '@strata/core';
import type { CliIo } from '../cli-io.ts';
import { withCliPool } from './with-cli-pool.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** `tenant create <name>` and `tenant key <tenant>`: each prints exactly one JSON line. */
export async function tenantCommand(args: string[], config: Config, io: CliIo): Promise<number> {
  const [action, ...rest] = args;
  const value = rest.join(' ').trim();
  if (action === 'create' && value.length >= 1 && value.length <= 200) {
    const created = await withCliPool(config, (pool) => createTenant(pool, value));
    io.stdout.write(`${JSON.stringify({ tenant: created.tenant, apiKey: created.apiKey })}\n`);
    return 0;
  }
  if (action === 'key' && value !== '') {
    const apiKey = UUID.test(value) ? await withCliPool(config, (pool) => issueApiKey(pool, value)) : undefined;
    if (!apiKey) {
      io.stderr.write(`ops tenant key: no tenant ${JSON.stringify(value)}\n`);
      return 1;
    }
    io.stdout.write(`${JSON.stringify({ tenant: value, apiKey })}\n`);
    return 0;
  }
  io.stderr.write('usage: pnpm ops tenant create <name (1-200 characters)> | pnpm ops tenant key <tenant-id>\n');
  return 2;
}
