import type { Queryable } from '@strata/core';

// The insert position, not the write or flush position: an asynchronous commit is visible on the
// primary before its WAL is flushed, and it must count as "not yet on the replica".
const SQL = 'SELECT pg_current_wal_insert_lsn()::text AS lsn';

/** The primary's current WAL insert position (e.g. `0/3000148`). */
export async function selectWalInsertPosition(db: Queryable): Promise<string> {
  const result = await db.query<{ lsn: string }>({ name: 'query-select-wal-insert-position', text: SQL });
  return result.rows[0]?.lsn ?? '0/0';
}
