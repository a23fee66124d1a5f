import type { Queryable } from '@strata/core';

const SQL = 'UPDATE replication_heartbeat SET beat_at = now() WHERE id = 1';

/** Writes the heartbeat row on the primary; a replica's lag is how old its copy of the row is. */
export async function touchHeartbeat(db: Queryable): Promise<void> {
  await db.query({ name: 'touch-heartbeat', text: SQL });
}
