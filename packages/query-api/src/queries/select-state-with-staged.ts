import type { EventValues, Labels, Queryable } from '@strata/core';
import type { ValueState } from '../model/value-state.ts';
import { LABEL_SAMPLES_CTES } from './device-labels-sql.ts';

// One statement, hence one snapshot: a batch the projector moves from staging into device_state
// between two separate reads would otherwise be seen twice or not at all. Labels come as one row per
// label with the winning sample's time, so staged events' labels can be laid over them by time.
const SQL = `
  WITH ${LABEL_SAMPLES_CTES}
  SELECT 'state' AS origin, ts, state AS payload, updated_at AS at, NULL AS label
    FROM device_state
   WHERE tenant_id = $1 AND device = $2
  UNION ALL
  SELECT 'staged', ts, "values", received_at, labels::text
    FROM staging_events
   WHERE tenant_id = $1 AND device = $2
  UNION ALL
  SELECT 'label', ts, to_jsonb(value), NULL, label
    FROM label_samples`;

interface Row {
  origin: 'state' | 'staged' | 'label';
  ts: string;
  payload: ValueState | EventValues | string | null;
  at: string | null;
  /** The label's name (label rows), or the staged event's labels as JSON text (staged rows). */
  label: string | null;
}

/** A label's value in force (null: removed) and the time of the sample that set it, epoch ms. */
export interface LabelSample {
  value: string | null;
  ms: number;
}

export interface StateWithStaged {
  state: { ts: string; state: ValueState; updatedAt: string } | undefined;
  staged: { ts: string; values: EventValues; labels: Labels | undefined; receivedAt: string }[];
  /** Labels from versions and noted minutes, by name (a Map: any name is a plain key). */
  labels: Map<string, LabelSample>;
}

/** A device's projected state and labels plus its events still waiting in staging, read together. */
export async function selectStateWithStaged(db: Queryable, tenantId: string, device: string): Promise<StateWithStaged> {
  const result = await db.query<Row>({ name: 'query-select-state-with-staged', text: SQL, values: [tenantId, device] });
  const out: StateWithStaged = { state: undefined, staged: [], labels: new Map() };
  for (const row of result.rows) {
    if (row.origin === 'state') out.state = { ts: row.ts, state: row.payload as ValueState, updatedAt: row.at as string };
    else if (row.origin === 'label') out.labels.set(row.label as string, { value: row.payload as string | null, ms: Date.parse(row.ts) });
    else {
      const labels = row.label === null ? undefined : (JSON.parse(row.label) as Labels);
      out.staged.push({ ts: row.ts, values: row.payload as EventValues, labels, receivedAt: row.at as string });
    }
  }
  return out;
}
