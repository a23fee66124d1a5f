import type { Queryable } from '@strata/core';

// $1 NULL deletes every dead letter (`--all`).
const SQL = 'DELETE FROM dead_letters WHERE $1::bigint[] IS NULL OR id = ANY($1::bigint[])';

/** Gives dead letters up for good (`ids`, or all when null); returns how many. */
export async function deleteDeadLetters(db: Queryable, ids: string[] | null): Promise<number> {
  const result = await db.query({ name: 'delete-dead-letters', text: SQL, values: [ids] });
  return result.rowCount ?? 0;
}
