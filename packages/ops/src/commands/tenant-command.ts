import { DEVICE_PATTERN, DEVICE_RULE, KEY_SCOPES, issueApiKey, UUID_PATTERN, type Config, type KeyScope } from '@strata/core';
import { createTenant } from '../queries/create-tenant.ts';
import type { CliIo } from '../cli-io.ts';
import { withCliPool } from './with-cli-pool.ts';

const USAGE =
  'usage: pnpm ops tenant create <name (1-200 characters)> | pnpm ops tenant key <tenant-id> [--scope write|read|all] [--device <name>]\n';

/** `tenant create <name>` and `tenant key <tenant> [--scope] [--device]`: each prints exactly one JSON line. */
export async function tenantCommand(args: string[], config: Config, io: CliIo): Promise<number> {
  const [action, ...rest] = args;
  if (action === 'create') {
    const name = rest.join(' ').trim();
    if (name.length < 1 || name.length > 200) return usage(io);
    const created = await withCliPool(config, (pool) => createTenant(pool, name));
    io.stdout.write(`${JSON.stringify({ tenant: created.tenant, apiKey: created.apiKey })}\n`);
    return 0;
  }
  if (action === 'key') {
    const parsed = parseKeyArgs(rest);
    if (typeof parsed === 'string') {
      io.stderr.write(`ops tenant key: ${parsed}\n${USAGE}`);
      return 2;
    }
    const { tenant, scope, device } = parsed;
    const issued = UUID_PATTERN.test(tenant) ? await withCliPool(config, (pool) => issueApiKey(pool, tenant, { scope, device })) : undefined;
    if (!issued) {
      io.stderr.write(`ops tenant key: no tenant ${JSON.stringify(tenant)}\n`);
      return 1;
    }
    io.stdout.write(`${JSON.stringify({ keyId: issued.keyId, apiKey: issued.apiKey, scope: issued.scope, device: issued.device })}\n`);
    return 0;
  }
  return usage(io);
}

function usage(io: CliIo): number {
  io.stderr.write(USAGE);
  return 2;
}

/** `<tenant> [--scope s] [--device d]` in any order; a string is what is wrong. */
function parseKeyArgs(args: string[]): { tenant: string; scope: KeyScope; device: string | null } | string {
  let tenant: string | undefined;
  // Without --scope a key may do everything, as every key could before scopes existed.
  let scope: KeyScope = 'all';
  let device: string | null = null;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '--scope' || arg === '--device') {
      const value = args[++i];
      if (value === undefined) return `${arg} needs a value`;
      if (arg === '--scope') {
        if (!KEY_SCOPES.includes(value as KeyScope)) return `--scope must be one of ${KEY_SCOPES.join(', ')}`;
        scope = value as KeyScope;
      } else {
        if (!DEVICE_PATTERN.test(value)) return `--device must be ${DEVICE_RULE}`;
        device = value;
      }
    } else if (tenant === undefined && !arg.startsWith('--')) {
      tenant = arg;
    } else {
      return `unexpected argument ${JSON.stringify(arg)}`;
    }
  }
  return tenant === undefined ? 'missing <tenant-id>' : { tenant, scope, device };
}
