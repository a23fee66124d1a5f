import type { Queryable } from '@strata/core';

// Keyed by a name hashed in the server, so every ops instance derives the same lock key.
const SQL = 'SELECT pg_try_advisory_xact_lock(hashtextextended($1, 0)) AS locked';

interface Row {
  locked: boolean;
}

/** Takes a transaction-scoped advisory lock if free; false when another instance holds it. */
export async function tryAdvisoryXactLock(db: Queryable, name: string): Promise<boolean> {
  const result = await db.query<Row>({ name: 'try-advisory-xact-lock', text: SQL, values: [name] });
  return result.rows[0]?.locked === true;
}
