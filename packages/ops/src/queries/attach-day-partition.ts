import pg from 'pg';
import type { Queryable } from '@strata/core';
import { nextUtcDay } from '../partitions/next-utc-day.ts';
import { isDailyPartitionName, partitionDay } from '../partitions/partition-day.ts';

/**
 * Attaches a filled day table as the partition of its UTC day. PostgreSQL checks that DEFAULT has no
 * rows of that range any more (they were just moved) and, thanks to the table's CHECK constraint,
 * does not scan the table itself.
 */
export async function attachDayPartition(db: Queryable, name: string): Promise<void> {
  const day = partitionDay(name);
  if (!isDailyPartitionName(name) || day === undefined) throw new Error(`not a daily event partition: ${name}`);
  const lower = pg.escapeLiteral(`${day} 00:00:00+00`);
  const upper = pg.escapeLiteral(`${nextUtcDay(day)} 00:00:00+00`);
  await db.query(`ALTER TABLE events ATTACH PARTITION ${pg.escapeIdentifier(name)} FOR VALUES FROM (${lower}) TO (${upper})`);
}
