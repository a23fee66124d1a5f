import type { EventValues, Labels, Queryable } from '@strata/core';
import { isoTime } from '../model/iso-time.ts';
import type { LatestState } from '../model/latest-state.ts';
import { LABEL_SAMPLES_CTES, LABELS_OBJECT } from './device-labels-sql.ts';

// One statement: the labels are read in the snapshot the values are.
const SQL = `
  WITH ${LABEL_SAMPLES_CTES}
  SELECT device, ts, "values", ${LABELS_OBJECT} AS labels, updated_at
    FROM device_state
   WHERE tenant_id = $1 AND device = $2`;

interface Row {
  device: string;
  ts: string;
  values: EventValues;
  labels: Labels;
  updated_at: string;
}

/** The projected latest state of one device with its labels, or undefined when the device is unknown. */
export async function selectDeviceState(db: Queryable, tenantId: string, device: string): Promise<LatestState | undefined> {
  const result = await db.query<Row>({ name: 'query-select-device-state', text: SQL, values: [tenantId, device] });
  const row = result.rows[0];
  return row ? toLatestState(row) : undefined;
}

function toLatestState(row: Row): LatestState {
  return { device: row.device, ts: isoTime(row.ts), values: row.values, updatedAt: isoTime(row.updated_at), labels: row.labels };
}
