import type { Queryable } from '@strata/core';

const SQL = 'SELECT (extract(epoch FROM clock_timestamp() - beat_at) * 1000)::float8 AS age_ms FROM replication_heartbeat WHERE id = 1';

interface Row {
  age_ms: number;
}

/** Milliseconds since the heartbeat was last written, by the server's clock; undefined if the row is missing. */
export async function readHeartbeatAge(db: Queryable): Promise<number | undefined> {
  const result = await db.query<Row>({ name: 'read-heartbeat-age', text: SQL });
  const row = result.rows[0];
  return row ? Math.max(0, Math.round(row.age_ms)) : undefined;
}
