import type { Queryable } from '../db/create-pool.ts';
import type { KeyScope } from './key-identity.ts';

// ISO 8601 in UTC from the database itself: the pools return timestamps as PostgreSQL's text.
const ISO = `'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'`;
const SQL = `
  SELECT id, scope, device, name,
         to_char(created_at AT TIME ZONE 'UTC', ${ISO}) AS created_at,
         to_char(last_used_at AT TIME ZONE 'UTC', ${ISO}) AS last_used_at,
         to_char(revoked_at AT TIME ZONE 'UTC', ${ISO}) AS revoked_at
    FROM api_keys
   WHERE tenant_id = $1
   ORDER BY created_at, id`;

interface Row {
  id: string;
  scope: KeyScope;
  device: string | null;
  name: string | null;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
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
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
    revokedAt: row.revoked_at,
  }));
}
