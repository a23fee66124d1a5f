import type { Queryable } from './create-pool.ts';

/**
 * The label versions' advisory-lock class (decisions 0074, 0113, 0115): one writer of a tenant's
 * label_versions at a time (group notes are written under it, and deleted by the refresher without it). fold_label_samples (migration 0021) takes it again itself.
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
 * is aborted: the client is told to retry rather than held), and the refresher, before its fold, without
 * (it waits for one short label write; it already holds its own class, which no label writer takes,
 * so the two cannot wait for each other).
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
// and cut to the millisecond, as label writes cut theirs (command-api fold-api-labels.ts). With $3, the
// caller's own lock class is tried first (also released at the statement's end): when another session
// holds it, the statement waits for nothing and answers NULL.
const BARRIER = `
  WITH mine AS MATERIALIZED (SELECT $3::int IS NULL OR pg_try_advisory_xact_lock($3::int, hashtext($2::text)) AS free)
  SELECT CASE WHEN mine.free
              THEN (SELECT (extract(epoch FROM date_trunc('milliseconds', clock_timestamp())) * 1000)::float8
                      FROM (SELECT pg_advisory_xact_lock($1::int, hashtext($2::text)) OFFSET 0) granted)
         END AS at
    FROM mine`;

/**
 * Waits for the tenant's label writes in progress to commit, without holding their lock afterwards, and
 * returns the database's clock (epoch ms) at that point: every label write that commits later took the
 * lock after it, so its instant is at or after the returned time (decision 0115). A reader of label
 * versions that must see "every change before instant X" (the refresher's claim and heads) takes its
 * snapshots after this, with X at most the returned time, instead of holding the lock while it reads.
 * `unlessHeld`: the caller's own lock class (the refresher's), tried first; when another session holds
 * it for the tenant, nothing is waited for and undefined is returned. Must not be called inside a
 * transaction (the locks would stay held until it ends), nor by a session holding either lock.
 */
export async function waitForLabelWrites(db: Queryable, tenantId: string, unlessHeld?: number): Promise<number | undefined> {
  const result = await db.query<{ at: number | null }>({ name: 'wait-for-label-writes', text: BARRIER, values: [LOCK_CLASS, tenantId, unlessHeld ?? null] });
  return result.rows[0]?.at ?? undefined;
}
