import pg from 'pg';
import type { Queryable } from '@strata/core';
import { isDailyPartitionName } from '../partitions/partition-day.ts';

/** Drops a daily partition table once it has been detached from `events`. */
export async function dropDetachedPartition(db: Queryable, name: string): Promise<void> {
  if (!isDailyPartitionName(name)) throw new Error(`not a daily event partition: ${name}`);
  await db.query(`DROP TABLE IF EXISTS ${pg.escapeIdentifier(name)}`);
}
