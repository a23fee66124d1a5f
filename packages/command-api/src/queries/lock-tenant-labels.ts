import type { Queryable } from '@strata/core';

/** The label versions' advisory-lock class (decision 0074; projector's lockTenantLabelVersions). */
const LOCK_CLASS = 60_060;

// The timeout is set first (a MATERIALIZED CTE runs before the query that reads it) and stays for the
// rest of the transaction. It bounds the wait on the lock, not the work: the refresher holds this lock
// only for its label steps (fold, group minutes, heads; decision 0113), not while it recomputes a busy
// minute's device aggregates (7–21 s for 830,000 events), but a tenant with many labelled devices can
// still hold it for seconds, and the caller then answers 503 with Retry-After rather than holding the
// request (and a pool connection) open for that long.
const SQL = `
  WITH timeout AS MATERIALIZED (SELECT set_config('lock_timeout', $3::text, true) AS value)
  SELECT pg_advisory_xact_lock($1::int, hashtext($2::text)) FROM timeout`;

/**
 * Takes the tenant's label versions lock for the rest of the transaction, waiting at most `timeoutMs`:
 * label versions have one writer per tenant at a time, the refresher or a PUT/PATCH (decision 0074).
 * Past the timeout PostgreSQL raises lock_not_available (55P03) and the transaction is aborted.
 */
export async function lockTenantLabels(db: Queryable, tenantId: string, timeoutMs: number): Promise<void> {
  await db.query({ name: 'lock-tenant-labels', text: SQL, values: [LOCK_CLASS, tenantId, `${Math.max(1, Math.round(timeoutMs))}ms`] });
}
