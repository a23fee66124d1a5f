import type { Queryable } from '@strata/core';

const SQL = 'SELECT count(*)::bigint AS events, count(DISTINCT tenant_id)::bigint AS tenants FROM dead_letters';

interface Row {
  events: string;
  tenants: string;
}

/** Acknowledged events the database refused, waiting for an operator (`pnpm ops dlq`). */
export async function countDeadLetters(db: Queryable): Promise<{ events: number; tenants: number }> {
  const result = await db.query<Row>({ name: 'count-dead-letters', text: SQL });
  const row = result.rows[0] as Row;
  return { events: Number(row.events), tenants: Number(row.tenants) };
}
