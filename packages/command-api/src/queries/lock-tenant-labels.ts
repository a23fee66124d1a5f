import type { Queryable } from '@strata/core';

/** The aggregate refresher's advisory-lock class (projector's lockTenantAggregates, decision 0060). */
const LOCK_CLASS = 60_060;

// The timeout is set first (a MATERIALIZED CTE runs before the query that reads it) and stays for the
// rest of the transaction. It bounds the wait on the lock, not the work: a refresher's claim of a
// quiet minute holds it well under a second, but a busy one holds it for its whole recomputation (7–21 s
// for a minute of 830,000 events, docs/performance.md, 2026-12-03), and the caller then answers 503 with
// Retry-After rather than holding the request (and a pool connection) open for that long.
const SQL = `
  WITH timeout AS MATERIALIZED (SELECT set_config('lock_timeout', $3::text, true) AS value)
  SELECT pg_advisory_xact_lock($1::int, hashtext($2::text)) FROM timeout`;

/**
 * Takes the tenant's aggregate lock for the rest of the transaction, waiting at most `timeoutMs`:
 * label versions have one writer per tenant at a time, the refresher or a PUT/PATCH (decision 0074).
 * Past the timeout PostgreSQL raises lock_not_available (55P03) and the transaction is aborted.
 */
export async function lockTenantLabels(db: Queryable, tenantId: string, timeoutMs: number): Promise<void> {
  await db.query({ name: 'lock-tenant-labels', text: SQL, values: [LOCK_CLASS, tenantId, `${Math.max(1, Math.round(timeoutMs))}ms`] });
}
