import { lockTenantLabelVersions, withTransaction } from '@strata/core';
import type { Pool } from 'pg';

/** A label sample as command-api's PUT/PATCH makes one: at `ts` (ms), `value` null = the label removed. */
export interface ApiLabelSample {
  device: string;
  label: string;
  ts: number;
  value: string | null;
}

/**
 * Folds samples as command-api's label writes do (write-device-labels.ts): one transaction that takes
 * the tenant's label versions lock (waiting at most `lockTimeoutMs`, when given: past it PostgreSQL
 * raises lock_not_available, as a PUT's 503), folds them and notes the group minutes they moved.
 */
export async function foldAsLabelWrite(db: Pool, tenant: string, samples: ApiLabelSample[], lockTimeoutMs?: number): Promise<void> {
  const payload = samples.map((s) => ({ device: s.device, label: s.label, ts: new Date(s.ts).toISOString(), value: s.value, origin: 'a' }));
  await withTransaction(db, async (client) => {
    await lockTenantLabelVersions(client, tenant, lockTimeoutMs);
    await client.query(
      `SELECT note_label_changes($1, (SELECT coalesce(jsonb_agg(to_jsonb(c)), '[]'::jsonb) FROM fold_label_samples($1, $2::jsonb) c))`,
      [tenant, JSON.stringify(payload)],
    );
  });
}
