import type { Queryable } from '@strata/core';

const SQL = 'SELECT id::text FROM dead_letters WHERE tenant_id = $1::uuid AND id = ANY($2::bigint[]) ORDER BY id';

/**
 * Those of `ids` that are dead letters of `tenantId`. Another tenant's id is left out exactly like an
 * id that does not exist, so a caller cannot learn which ids other tenants have.
 */
export async function selectTenantDeadLetterIds(db: Queryable, tenantId: string, ids: string[]): Promise<string[]> {
  const result = await db.query<{ id: string }>({ name: 'select-tenant-dead-letter-ids', text: SQL, values: [tenantId, ids] });
  return result.rows.map((row) => row.id);
}
