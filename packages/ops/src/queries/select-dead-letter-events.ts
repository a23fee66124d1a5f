import type { Queryable } from '@strata/core';

// $1 NULL selects every dead letter (`--all`), else those ids.
const SQL = `
  SELECT id::text, event
    FROM dead_letters
   WHERE id > $2::bigint AND ($1::bigint[] IS NULL OR id = ANY($1::bigint[]))
   ORDER BY id
   LIMIT $3::int`;

interface Row {
  id: string;
  event: string;
}

export interface DeadLetterEvent {
  id: string;
  /** The refused event as JSON text, exactly as the projector recorded it. */
  event: string;
}

/** The stored events of dead letters (`ids`, or all when null) with id above `afterId`, oldest first. */
export async function selectDeadLetterEvents(db: Queryable, ids: string[] | null, afterId: string, limit: number): Promise<DeadLetterEvent[]> {
  const result = await db.query<Row>({ name: 'select-dead-letter-events', text: SQL, values: [ids, afterId, limit] });
  return result.rows;
}
