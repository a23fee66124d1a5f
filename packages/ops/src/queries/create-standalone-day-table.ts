import pg from 'pg';
import type { Queryable } from '@strata/core';
import { nextUtcDay } from '../partitions/next-utc-day.ts';
import { partitionName } from '../partitions/partition-day.ts';

/**
 * A table shaped like `events` (columns, defaults, primary key) for one UTC day, not yet a
 * partition. Its CHECK constraint states the bounds, so ATTACH PARTITION can skip scanning it.
 * Identifiers cannot be parameters; the name and bounds come from a validated YYYY-MM-DD day. Its
 * BRIN index is told not to ask autovacuum to summarize its ranges before the rows move in: ops does
 * (decision 0106).
 */
export async function createStandaloneDayTable(db: Queryable, day: string): Promise<string> {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) throw new Error(`not a day: ${day}`);
  const name = partitionName(day);
  const lower = pg.escapeLiteral(`${day} 00:00:00+00`);
  const upper = pg.escapeLiteral(`${nextUtcDay(day)} 00:00:00+00`);
  await db.query(
    `CREATE TABLE ${pg.escapeIdentifier(name)} (LIKE events INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING INDEXES,
       CONSTRAINT ${pg.escapeIdentifier(`${name}_bounds`)} CHECK (ts >= ${lower}::timestamptz AND ts < ${upper}::timestamptz))`,
  );
  await db.query('SELECT strata_summarize_history_ranges_manually($1::regclass)', [name]);
  return name;
}
