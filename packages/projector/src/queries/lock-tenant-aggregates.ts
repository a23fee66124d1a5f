import type { Queryable } from '@strata/core';

/**
 * Advisory-lock class of the aggregate refresher (decision 0113; the second key is the tenant's hash):
 * one refresher transaction per tenant at a time. Label writers take another class, 60060
 * (core's lockTenantLabelVersions), which the refresher takes too, but only for its fold (decision 0115).
 */
export const AGGREGATES_LOCK_CLASS = 60_061;

/**
 * Takes the transaction-scoped lock on a tenant's aggregates, or reports that another refresher holds
 * it. One refresher per tenant at a time: an hour is recomputed from its minutes, and two refreshers
 * each writing a different minute of it would each write the hour without the other's minute.
 * Tenants whose hashes collide merely take turns. Label writes (command-api's PUT/PATCH) do not wait
 * for it: they wait only for the label versions' lock, which a refresher holds for its fold of label
 * samples alone (decisions 0113, 0115).
 *
 * The same statement switches JIT compilation off for the rest of the transaction, whatever the
 * server's setting (PostgreSQL's default is on): the refresh statements' estimated costs pass the JIT
 * thresholds as soon as a claim holds a few thousand events, and compiling them then took 0.7–1.4 s
 * of a 1.1–2.3 s refresh that runs in 0.2 s without it (decision 0064).
 */
export async function lockTenantAggregates(db: Queryable, tenantId: string): Promise<boolean> {
  const result = await db.query<{ locked: boolean }>({
    name: 'lock-tenant-aggregates',
    text: `SELECT pg_try_advisory_xact_lock($1::int, hashtext($2::text)) AS locked, set_config('jit', 'off', true) AS jit`,
    values: [AGGREGATES_LOCK_CLASS, tenantId],
  });
  return result.rows[0]?.locked === true;
}
