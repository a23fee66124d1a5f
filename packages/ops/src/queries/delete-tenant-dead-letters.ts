import type { Queryable } from '@strata/core';

// Never NULL for "all" (unlike delete-dead-letters): a tenant's request names its ids.
const SQL = 'DELETE FROM dead_letters WHERE tenant_id = $1::uuid AND id = ANY($2::bigint[])';

/** Gives up those of `ids` that are `tenantId`'s dead letters; returns how many. */
export async function deleteTenantDeadLetters(db: Queryable, tenantId: string, ids: string[]): Promise<number> {
  const result = await db.query({ name: 'delete-tenant-dead-letters', text: SQL, values: [tenantId, ids] });
  return result.rowCount ?? 0;
}
