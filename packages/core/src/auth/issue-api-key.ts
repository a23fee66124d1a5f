import type { Queryable } from '../db/create-pool.ts';
import { generateApiKey, hashApiKey } from './api-key.ts';

const SQL = 'INSERT INTO api_keys (key_hash, tenant_id) SELECT $1, id FROM tenants WHERE id = $2 RETURNING tenant_id';

/** A further API key for an existing tenant; undefined when there is no such tenant. */
export async function issueApiKey(db: Queryable, tenantId: string): Promise<string | undefined> {
  const apiKey = generateApiKey();
  const result = await db.query(SQL, [hashApiKey(apiKey), tenantId]);
  return result.rowCount ? apiKey : undefined;
}
