import pg from 'pg';
import type { Queryable } from '@strata/core';
import { isDailyPartitionName } from '../partitions/partition-day.ts';

/** Refreshes the planner statistics of one daily partition (autovacuum lags behind a day filling up fast). */
export async function analyzeTable(db: Queryable, name: string): Promise<void> {
  if (!isDailyPartitionName(name)) throw new Error(`not a daily event partition: ${name}`);
  await db.query(`ANALYZE ${pg.escapeIdentifier(name)}`);
}
