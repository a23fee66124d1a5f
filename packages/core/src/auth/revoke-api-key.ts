import type { Queryable } from '../db/create-pool.ts';

// COALESCE keeps the first revocation time when a key is revoked twice (the command is idempotent).
const SQL = `
  UPDATE api_keys
     SET revoked_at = COALESCE(revoked_at, now())
   WHERE id = $1
  RETURNING tenant_id, to_char(revoked_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS revoked_at`;

/** Marks a key revoked in the database; undefined when there is no such key. */
export async function revokeApiKey(db: Queryable, keyId: string): Promise<{ tenantId: string; revokedAt: string } | undefined> {
  const result = await db.query<{ tenant_id: string; revoked_at: string }>(SQL, [keyId]);
  const row = result.rows[0];
  return row ? { tenantId: row.tenant_id, revokedAt: row.revoked_at } : undefined;
}
