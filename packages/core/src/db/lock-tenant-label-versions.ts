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

// One statement outside any transaction: the lock is granted once every label write that holds it or
// waits before it has committed, and released when the statement ends. The clock is read after the grant
// and cut to the millisecond, as label writes cut theirs (command-api fold-api-labels.ts).
const BARRIER = `SELECT (extract(epoch FROM date_trunc('milliseconds', clock_timestamp())) * 1000)::float8 AS at
                   FROM (SELECT pg_advisory_xact_lock($1::int, hashtext($2::text)) OFFSET 0) granted`;

/**
 * Waits for the tenant's label writes in progress to commit, without holding their lock afterwards, and
 * returns the database's clock (epoch ms) at that point: every label write that commits later took the
 * lock after it, so its instant is at or after the returned time (decision 0115). A reader of label
 * versions that only needs "every change before instant X" (the refresher's group heads) runs after
 * this, with X at most the returned time, instead of holding the lock while it reads. Must not be called
 * inside a transaction (the lock would stay held until it ends), nor by a session holding the lock.
 */
export async function waitForLabelWrites(db: Queryable, tenantId: string): Promise<number> {
  const result = await db.query<{ at: number }>({ name: 'wait-for-label-writes', text: BARRIER, values: [LOCK_CLASS, tenantId] });
  return (result.rows[0] as { at: number }).at;
}
