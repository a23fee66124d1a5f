import type { Queryable } from '@strata/core';

const SQL = 'SELECT count(*)::bigint AS events FROM dead_letters WHERE tenant_id = $1::uuid';

/** How many dead letters one tenant has (the status page's total above its page of them). */
export async function countTenantDeadLetters(db: Queryable, tenantId: string): Promise<number> {
  const result = await db.query<{ events: string }>({ name: 'count-tenant-dead-letters', text: SQL, values: [tenantId] });
  return Number(result.rows[0]?.events ?? 0);
}
