import type { Queryable } from '../db/create-pool.ts';
import type { KeyIdentity, KeyScope } from './key-identity.ts';

// Auth is a shared contract (the same keys work on both APIs), so its queries live in core.
// The lookup also stamps last_used_at: it runs once per key per cache period per process, not per
// request, so `ops key list` can tell an idle key from a live one at that precision.
const SQL = `
  UPDATE api_keys
     SET last_used_at = now()
   WHERE key_hash = $1 AND revoked_at IS NULL
  RETURNING id, tenant_id, scope, device`;

interface Row {
  id: string;
  tenant_id: string;
  scope: KeyScope;
  device: string | null;
}

/** The live (unrevoked) key with this SHA-256 digest, or undefined. */
export async function findKeyByHash(db: Queryable, keyHash: Buffer): Promise<KeyIdentity | undefined> {
  const result = await db.query<Row>({ name: 'find-key-by-hash', text: SQL, values: [keyHash] });
  const row = result.rows[0];
  return row ? { keyId: row.id, tenantId: row.tenant_id, scope: row.scope, device: row.device } : undefined;
}
