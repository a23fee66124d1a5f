import type { Queryable } from '@strata/core';

// pg_inherits, not a name pattern: only tables really attached to `events` count as partitions.
const SQL = `
  SELECT c.relname AS name,
         pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT' AS is_default,
         c.reltuples::bigint AS rows_estimate,
         pg_total_relation_size(c.oid) AS bytes
    FROM pg_inherits i
    JOIN pg_class c ON c.oid = i.inhrelid
   WHERE i.inhparent = 'events'::regclass
   ORDER BY c.relname`;

interface Row {
  name: string;
  is_default: boolean;
  rows_estimate: string;
  bytes: string;
}

export interface EventPartition {
  name: string;
  isDefault: boolean;
  /** Planner estimate; null until the partition has been vacuumed or analyzed once. */
  rowsEstimate: number | null;
  bytes: number;
}

export async function listEventPartitions(db: Queryable): Promise<EventPartition[]> {
  const result = await db.query<Row>({ name: 'list-event-partitions', text: SQL });
  return result.rows.map(toPartition);
}

function toPartition(row: Row): EventPartition {
  const rows = Number(row.rows_estimate);
  return { name: row.name, isDefault: row.is_default, rowsEstimate: rows < 0 ? null : rows, bytes: Number(row.bytes) };
}
