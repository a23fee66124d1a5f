import type { Queryable } from '@strata/core';

/**
 * The label versions' advisory-lock class (decision 0074): one writer of a tenant's label_versions and
 * group notes at a time. command-api's label writes take it (lockTenantLabels), fold_label_samples
 * takes it again itself (migration 0021), and the refresher takes it before its first label step.
 */
const LOCK_CLASS = 60_060;

/**
 * Takes the tenant's label versions lock for the rest of the refresher's transaction, waiting for a
 * label write that holds it (a PUT/PATCH holds it for one short fold). The refresher already holds the
 * tenant's aggregate lock (lockTenantAggregates), which no label writer takes, so the two cannot wait
 * for each other. Every step that reads or writes label_versions, group notes or group rows comes after
 * it; the device minutes, hours, days and counts before it read neither (decision 0113).
 */
export async function lockTenantLabelVersions(db: Queryable, tenantId: string): Promise<void> {
  await db.query({ name: 'lock-tenant-label-versions', text: 'SELECT pg_advisory_xact_lock($1::int, hashtext($2::text))', values: [LOCK_CLASS, tenantId] });
}
