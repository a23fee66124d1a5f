import type { Queryable } from './create-pool.ts';

/**
 * The label versions' advisory-lock class (decisions 0074, 0113): one writer of a tenant's
 * label_versions and group notes at a time. fold_label_samples (migration 0021) takes it again itself.
 * The aggregate refresher's own class, 60061, is another (projector's lockTenantAggregates).
 */
const LOCK_CLASS = 60_060;

// The timeout is set first (a MATERIALIZED CTE runs before the query that reads it) and stays for the
// rest of the transaction. It bounds the wait on the lock, not the work.
const WITH_TIMEOUT = `
  WITH timeout AS MATERIALIZED (SELECT set_config('lock_timeout', $3::text, true) AS value)
  SELECT pg_advisory_xact_lock($1::int, hashtext($2::text)) FROM timeout`;
const WAITING = 'SELECT pg_advisory_xact_lock($1::int, hashtext($2::text))';

/**
 * Takes the tenant's label versions lock for the rest of the transaction. Its writers: command-api's
 * PUT/PATCH, with `timeoutMs` (past it PostgreSQL raises lock_not_available, 55P03, and the transaction
 * is aborted: the client is told to retry rather than held), and the refresher, before its first label
 * step, without (it waits for one short label write; it already holds its own class, which no label
 * writer takes, so the two cannot wait for each other).
 */
export async function lockTenantLabelVersions(db: Queryable, tenantId: string, timeoutMs?: number): Promise<void> {
  if (timeoutMs === undefined) {
    await db.query({ name: 'lock-tenant-label-versions', text: WAITING, values: [LOCK_CLASS, tenantId] });
    return;
  }
  await db.query({ name: 'lock-tenant-label-versions-timeout', text: WITH_TIMEOUT, values: [LOCK_CLASS, tenantId, `${Math.max(1, Math.round(timeoutMs))}ms`] });
}
