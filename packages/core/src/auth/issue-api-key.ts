import type { Queryable } from '../db/create-pool.ts';
import { generateApiKey, hashApiKey } from './api-key.ts';
import type { KeyScope } from './key-identity.ts';

const SQL = `
  INSERT INTO api_keys (key_hash, tenant_id, scope, device, name)
  SELECT $1, id, $3, $4, $5 FROM tenants WHERE id = $2
  RETURNING id`;

export interface IssueKeyOptions {
  scope: KeyScope;
  /** Binds the key to this one device. */
  device?: string | null;
  name?: string | null;
}

export interface IssuedKey {
  keyId: string;
  /** The secret: shown once, only its digest is stored. */
  apiKey: string;
  scope: KeyScope;
  device: string | null;
}

/** A further API key for an existing tenant; undefined when there is no such tenant. */
export async function issueApiKey(db: Queryable, tenantId: string, options: IssueKeyOptions): Promise<IssuedKey | undefined> {
  const apiKey = generateApiKey();
  const device = options.device ?? null;
  const result = await db.query<{ id: string }>(SQL, [hashApiKey(apiKey), tenantId, options.scope, device, options.name ?? null]);
  const row = result.rows[0];
  return row ? { keyId: row.id, apiKey, scope: options.scope, device } : undefined;
}
