import type { Pool } from '@strata/core';

export interface StoredCheck {
  scenario: string;
  acknowledged: number;
  stored: number;
  /** Distinct points among the stored rows, by the generator's own identity (when checked). */
  distinct?: number;
  ok: boolean;
}

/**
 * What names one generated point, for phases that check "none twice": the id an event carries, or the
 * `seq` field of a line-protocol point (which has no id). A fixed list, never text from elsewhere.
 */
const IDENTITY = {
  id: 'event_key',
  seq: `"values"->>'seq'`,
} as const;

export type PointIdentity = keyof typeof IDENTITY;

// Every phase stamps its events with the wall clock inside its own window, so the window names them.
const WHERE = 'FROM tenant_events WHERE tenant_id = $1 AND ts >= $2 AND ts <= $3';

/**
 * The generator's honesty check: the bench tenant's history rows in a phase's window of event time
 * must equal the events it acknowledged; with `identity`, they must also be that many distinct points
 * (none stored twice under another key). A FAIL line goes to stderr at once; the check is also kept
 * in the results.
 */
export async function checkStoredEvents(
  db: Pool,
  tenant: string,
  scenario: string,
  window: { fromMs: number; toMs: number },
  acknowledged: number,
  identity?: PointIdentity,
): Promise<StoredCheck> {
  const distinctSql = identity ? `, count(DISTINCT ${IDENTITY[identity]})::bigint AS distinct` : '';
  const result = await db.query<{ n: string; distinct?: string }>(`SELECT count(*)::bigint AS n${distinctSql} ${WHERE}`, [tenant, new Date(window.fromMs), new Date(window.toMs)]);
  const row = result.rows[0];
  const stored = Number(row?.n ?? 0);
  const distinct = identity ? Number(row?.distinct ?? 0) : undefined;
  const ok = stored === acknowledged && (distinct === undefined || distinct === stored);
  const check: StoredCheck = { scenario, acknowledged, stored, ...(distinct === undefined ? {} : { distinct }), ok };
  if (!ok) process.stderr.write(`FAIL ${describeCheck(check)}\n`);
  return check;
}

/** `scenario: N events acknowledged, M stored[, K distinct]`: the line a failed check prints. */
export function describeCheck(check: StoredCheck): string {
  const distinct = check.distinct === undefined ? '' : `, ${check.distinct} distinct`;
  return `${check.scenario}: ${check.acknowledged} events acknowledged, ${check.stored} stored${distinct}`;
}
