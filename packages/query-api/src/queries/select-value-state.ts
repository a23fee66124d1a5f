import type { Queryable } from '@strata/core';
import type { ValueState } from '../model/value-state.ts';

const SQL = `
  SELECT state
    FROM device_state
   WHERE tenant_id = $1 AND device = $2`;

interface Row {
  state: ValueState;
}

/** A device's latest value of every key with its event time, or undefined when the device is unknown. */
export async function selectValueState(db: Queryable, tenantId: string, device: string): Promise<ValueState | undefined> {
  const result = await db.query<Row>({ name: 'query-select-value-state', text: SQL, values: [tenantId, device] });
  return result.rows[0]?.state;
}
