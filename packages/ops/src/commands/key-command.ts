import { createLogger, createRedis, listApiKeys, publishKeyRevocation, revokeApiKey, UUID_PATTERN, type Config } from '@strata/core';
import type { CliIo } from '../cli-io.ts';
import { withCliPool } from './with-cli-pool.ts';

const USAGE = 'usage: pnpm ops key list <tenant-id> | pnpm ops key revoke <key-id>\n';

/** `key list <tenant>` (one JSON line per key, no secrets) and `key revoke <keyId>`. */
export async function keyCommand(args: string[], config: Config, io: CliIo): Promise<number> {
  const [action, id, ...extra] = args;
  if (id === undefined || extra.length > 0 || (action !== 'list' && action !== 'revoke')) {
    io.stderr.write(USAGE);
    return 2;
  }
  if (action === 'list') {
    const keys = UUID_PATTERN.test(id) ? await withCliPool(config, (pool) => listApiKeys(pool, id)) : [];
    for (const key of keys) io.stdout.write(`${JSON.stringify(key)}\n`);
    return 0;
  }
  return revokeKey(id, config, io);
}

/**
 * Marks the key revoked (the lasting fact), then tells every running process to forget it at once.
 * If the message cannot be sent, the key still stops working when caches expire (30 s); the command
 * says so and exits 1, and running it again re-sends the message.
 */
export async function revokeKey(keyId: string, config: Config, io: CliIo): Promise<number> {
  const revoked = UUID_PATTERN.test(keyId) ? await withCliPool(config, (pool) => revokeApiKey(pool, keyId)) : undefined;
  if (!revoked) {
    io.stderr.write(`ops key revoke: no key ${JSON.stringify(keyId)}\n`);
    return 1;
  }
  const redis = createRedis(config.redisUrl, { maxRetriesPerRequest: 1, connectionName: 'strata-ops-cli', commandTimeoutMs: 5000 }, createLogger('ops', 'silent'));
  try {
    const processes = await publishKeyRevocation(redis, config.redisPrefix, keyId);
    io.stdout.write(`${JSON.stringify({ keyId, tenant: revoked.tenantId, revokedAt: revoked.revokedAt, processesNotified: processes })}\n`);
    return 0;
  } catch (error) {
    io.stdout.write(`${JSON.stringify({ keyId, tenant: revoked.tenantId, revokedAt: revoked.revokedAt, processesNotified: null })}\n`);
    io.stderr.write(
      `ops key revoke: the key is revoked, but running processes could not be told (${error instanceof Error ? error.message : String(error)}); ` +
        'they stop accepting it within 30 s, or run the command again\n',
    );
    return 1;
  } finally {
    redis.disconnect();
  }
}
