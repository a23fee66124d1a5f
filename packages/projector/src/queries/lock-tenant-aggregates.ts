import type { Queryable } from '@strata/core';

/** Advisory-lock class of the aggregate refresher (decision 0060); the second key is the tenant's hash. */
const LOCK_CLASS = 60_060;

/**
 * Takes the transaction-scoped lock on a tenant's aggregates, or reports that another refresher holds
 * it. One refresher per tenant at a time: an hour is recomputed from its minutes, and two refreshers
 * each writing a different minute of it would each write the hour without the other's minute.
 * Tenants whose hashes collide merely take turns.
 */
export async function lockTenantAggregates(db: Queryable, tenantId: string): Promise<boolean> {
  const result = await db.query<{ locked: boolean }>({
    name: 'lock-tenant-aggregates',
    text: 'SELECT pg_try_advisory_xact_lock($1::int, hashtext($2::text)) AS locked',
    values: [LOCK_CLASS, tenantId],
  });
  return result.rows[0]?.locked === true;
}
