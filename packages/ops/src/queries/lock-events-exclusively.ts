import type { Queryable } from '@strata/core';

/**
 * Locks the whole `events` table until the transaction ends. Moving rows from DEFAULT into a new
 * partition needs it: ATTACH alone locks the parent only against other DDL, so a reader that planned
 * before the commit (partition list without the new day) and read DEFAULT after it (rows gone) would
 * miss the rows. With this lock readers wait and then plan against the new partition set.
 */
export async function lockEventsExclusively(db: Queryable): Promise<void> {
  await db.query('LOCK TABLE events IN ACCESS EXCLUSIVE MODE');
}
