import type { BatchEvent } from './ingest-queue.ts';

/** A batch as parallel column arrays, the shape `unnest($n::type[], ...)` statements take. */
export interface BatchEventColumns {
  tenants: string[];
  devices: string[];
  keys: string[];
  /** Epoch milliseconds; float8 holds them exactly and the server converts with to_timestamp. */
  times: number[];
  types: string[];
  /** JSON text of each event's values, cast to jsonb by the statement. */
  values: string[];
  /** JSON text of each event's labels, or null when it has none (history stores NULL: no bytes). */
  labels: (string | null)[];
}

export function batchEventColumns(events: BatchEvent[]): BatchEventColumns {
  const n = events.length;
  const columns: BatchEventColumns = {
    tenants: new Array<string>(n),
    devices: new Array<string>(n),
    keys: new Array<string>(n),
    times: new Array<number>(n),
    types: new Array<string>(n),
    values: new Array<string>(n),
    labels: new Array<string | null>(n),
  };
  for (let i = 0; i < n; i++) {
    const event = events[i] as BatchEvent;
    columns.tenants[i] = event.tenantId;
    columns.devices[i] = event.device;
    columns.keys[i] = event.key;
    columns.times[i] = event.ts;
    columns.types[i] = event.type;
    columns.values[i] = JSON.stringify(event.values);
    columns.labels[i] = event.labels === undefined ? null : JSON.stringify(event.labels);
  }
  return columns;
}
