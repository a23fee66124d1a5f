import type { EventValue, Queryable } from '@strata/core';

// Per key, the newest value among the device's events in (after, upTo]; on equal event times the
// larger JSON text wins, the rule merge_value_state applies, so the answer never depends on arrival
// order. The primary key (tenant_id, device, ts, ...) bounds the scan to the window, and only
// partitions overlapping it are read.
const SQL = `
  SELECT DISTINCT ON (v.key) v.key, v.value, round(extract(epoch FROM e.ts) * 1000)::float8 AS t
    FROM tenant_events e CROSS JOIN LATERAL jsonb_each(e."values") v
   WHERE e.tenant_id = $1 AND e.device = $2
     AND e.ts > $3::timestamptz AND e.ts <= $4::timestamptz
     AND v.key = ANY($5::text[])
   ORDER BY v.key, e.ts DESC, v.value::text COLLATE "C" DESC`;

interface Row {
  key: string;
  value: EventValue;
  t: number;
}

export interface SelectValuesAtQuery {
  tenantId: string;
  device: string;
  /** Exclusive lower bound, timestamptz text (may be '-infinity'). */
  after: string;
  /** Inclusive upper bound, timestamptz text. */
  upTo: string;
  keys: string[];
}

/** The newest value of each of `keys` in the window, with its event time (epoch ms). */
export async function selectValuesAt(db: Queryable, query: SelectValuesAtQuery): Promise<Row[]> {
  const result = await db.query<Row>({
    name: 'query-select-values-at',
    text: SQL,
    values: [query.tenantId, query.device, query.after, query.upTo, query.keys],
  });
  return result.rows;
}
