import pg from 'pg';
import type { Queryable } from '@strata/core';
import { isDailyPartitionName } from '../partitions/partition-day.ts';

/**
 * Detaches one daily partition from `events`. Identifiers cannot be parameters, so the name is
 * checked against the daily pattern (never the DEFAULT partition) and then quoted.
 */
export async function detachEventPartition(db: Queryable, name: string): Promise<void> {
  if (!isDailyPartitionName(name)) throw new Error(`not a daily event partition: ${name}`);
  await db.query(`ALTER TABLE events DETACH PARTITION ${pg.escapeIdentifier(name)}`);
}
