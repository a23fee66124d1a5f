import type { Pool } from '@strata/core';

export interface StoredCheck {
  scenario: string;
  acknowledged: number;
  stored: number;
  ok: boolean;
}

// Every phase stamps its events with the wall clock inside its own window, so the window names them.
const SQL = 'SELECT count(*)::bigint AS n FROM events WHERE tenant_id = $1 AND ts >= $2 AND ts <= $3';

/**
 * The generator's honesty check: the bench tenant's history rows in a phase's window of event time
 * must equal the events its 202s acknowledged. A FAIL line goes to stderr at once; the check is also
 * kept in the results.
 */
export async function checkStoredEvents(db: Pool, tenant: string, scenario: string, window: { fromMs: number; toMs: number }, acknowledged: number): Promise<StoredCheck> {
  const result = await db.query<{ n: string }>(SQL, [tenant, new Date(window.fromMs), new Date(window.toMs)]);
  const stored = Number(result.rows[0]?.n ?? 0);
  const ok = stored === acknowledged;
  if (!ok) process.stderr.write(`FAIL ${scenario}: ${acknowledged} events acknowledged, ${stored} stored\n`);
  return { scenario, acknowledged, stored, ok };
}
