import { withTransaction, type Pool } from '@strata/core';

export interface LabelSample {
  device: string;
  label: string;
  /** Epoch ms. */
  ts: number;
  /** null: the label removed. */
  value: string | null;
  /** 'a' (API, the default) or 'e' (an event's labels). */
  origin?: 'a' | 'e';
}

/**
 * Folds label samples as the writers do (migration 0021's fold_label_samples under the tenant's
 * aggregate lock, then note_label_changes for the group minutes they re-attribute, as the refresher
 * does): an API sample at a time of the test's choosing stands for a PUT/PATCH at that time.
 */
export async function foldLabelSamples(pool: Pool, tenantId: string, samples: LabelSample[]): Promise<void> {
  const json = samples.map((s) => ({ device: s.device, label: s.label, ts: new Date(s.ts).toISOString(), value: s.value, origin: s.origin ?? 'a' }));
  await withTransaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock(60060, hashtext($1::text))', [tenantId]);
    await client.query(
      `WITH changes AS (SELECT * FROM fold_label_samples($1::uuid, $2::jsonb))
       SELECT note_label_changes($1::uuid, (SELECT coalesce(jsonb_agg(to_jsonb(c)), '[]'::jsonb) FROM changes c))`,
      [tenantId, JSON.stringify(json)],
    );
  });
}
