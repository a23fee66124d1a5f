import type { Queryable } from '../db/create-pool.ts';

// Auth is a shared contract (the same keys work on both APIs), so its one query lives in core.
const SQL = `
  SELECT k.tenant_id
    FROM api_keys k
   WHERE k.key_hash = $1 AND k.revoked_at IS NULL`;

interface Row {
  tenant_id: string;
}

export async function findTenantByKey(db: Queryable, keyHash: Buffer): Promise<string | undefined> {
  const result = await db.query<Row>({ name: 'find-tenant-by-key', text: SQL, values: [keyHash] });
  return result.rows[0]?.tenant_id;
}
