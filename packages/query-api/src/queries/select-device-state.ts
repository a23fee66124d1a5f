import type { Queryable } from '@strata/core';
import type { EventValues } from '@strata/core';
import { isoTime } from '../model/iso-time.ts';
import type { LatestState } from '../model/latest-state.ts';

const SQL = `
  SELECT device, ts, "values", updated_at
    FROM device_state
   WHERE tenant_id = $1 AND device = $2`;

interface Row {
  device: string;
  ts: string;
  values: EventValues;
  updated_at: string;
}

/** The projected latest state of one device, or undefined when the device is unknown. */
export async function selectDeviceState(db: Queryable, tenantId: string, device: string): Promise<LatestState | undefined> {
  const result = await db.query<Row>({ name: 'query-select-device-state', text: SQL, values: [tenantId, device] });
  const row = result.rows[0];
  return row ? toLatestState(row) : undefined;
}

function toLatestState(row: Row): LatestState {
  return { device: row.device, ts: isoTime(row.ts), values: row.values, updatedAt: isoTime(row.updated_at) };
}
