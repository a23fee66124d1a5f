import type { Queryable } from '../db/create-pool.ts';
import type { KeyScope } from './key-identity.ts';

const SQL = `
  SELECT id, scope, device, name, created_at, last_used_at, revoked_at
    FROM api_keys
   WHERE tenant_id = $1
   ORDER BY created_at, id`;

interface Row {
  id: string;
  scope: KeyScope;
  device: string | null;
  name: string | null;
  created_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

/** A key as `ops key list` shows it: everything but the secret (which is not stored anyway). */
export interface ApiKeyListing {
  keyId: string;
  scope: KeyScope;
  device: string | null;
  name: string | null;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

/** Every key of a tenant, revoked ones included, oldest first. */
export async function listApiKeys(db: Queryable, tenantId: string): Promise<ApiKeyListing[]> {
  const result = await db.query<Row>(SQL, [tenantId]);
  return result.rows.map((row) => ({
    keyId: row.id,
    scope: row.scope,
    device: row.device,
    name: row.name,
    createdAt: row.created_at.toISOString(),
    lastUsedAt: row.last_used_at?.toISOString() ?? null,
    revokedAt: row.revoked_at?.toISOString() ?? null,
  }));
}
