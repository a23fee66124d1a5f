import type { EventValues, Queryable } from '@strata/core';
import type { ValueState } from '../model/value-state.ts';

// One statement, hence one snapshot: a batch the projector moves from staging into device_state
// between two separate reads would otherwise be seen twice or not at all.
const SQL = `
  SELECT 'state' AS origin, ts, state AS payload, updated_at AS at
    FROM device_state
   WHERE tenant_id = $1 AND device = $2
  UNION ALL
  SELECT 'staged', ts, "values", received_at
    FROM staging_events
   WHERE tenant_id = $1 AND device = $2`;

interface Row {
  origin: 'state' | 'staged';
  ts: string;
  payload: ValueState | EventValues;
  at: string;
}

export interface StateWithStaged {
  state: { ts: string; state: ValueState; updatedAt: string } | undefined;
  staged: { ts: string; values: EventValues; receivedAt: string }[];
}

/** A device's projected state plus its events still waiting in staging, read together. */
export async function selectStateWithStaged(db: Queryable, tenantId: string, device: string): Promise<StateWithStaged> {
  const result = await db.query<Row>({ name: 'query-select-state-with-staged', text: SQL, values: [tenantId, device] });
  const out: StateWithStaged = { state: undefined, staged: [] };
  for (const row of result.rows) {
    if (row.origin === 'state') out.state = { ts: row.ts, state: row.payload as ValueState, updatedAt: row.at };
    else out.staged.push({ ts: row.ts, values: row.payload as EventValues, receivedAt: row.at });
  }
  return out;
}
