import type { EventValues, Queryable } from '@strata/core';

// Newest first with (ts, event_key) as the keyset: event_key breaks ties between events of the same
// instant, so a page boundary inside such a group neither repeats nor skips events. NULL parameters
// switch a filter off, which keeps this one named statement for every combination. A page is bounded in
// bytes too: a running sum of the values' JSON size streams with the ordered scan, and rows that
// start past $9 come back without values, only to mark where the page ends (the first always fits).
// History by the device's number, looked up once (an InitPlan), not through the view tenant_events:
// the number is then a constant, so each day's primary key yields the rows in (ts, event_key) order
// and the limit stops the ordered merge early; joined through the view, the planner sorted every row
// of the window before the limit (decision 0092). History stores the default type as NULL.
const SQL = `
  SELECT ts, event_key, type, CASE WHEN bytes_before < $9::bigint THEN "values" END AS "values"
    FROM (
      SELECT ts, event_key, coalesce(type, 'reading') AS type, "values",
             sum(octet_length("values"::text)) OVER w - octet_length("values"::text) AS bytes_before
        FROM events
       WHERE device_no = (SELECT device_no FROM devices WHERE tenant_id = $1 AND device = $2)
         AND ts >= $3::timestamptz AND ts < $4::timestamptz
         AND ($5::text IS NULL OR coalesce(type, 'reading') = $5::text)
         AND ($6::timestamptz IS NULL OR (ts, event_key) < ($6::timestamptz, $7::text))
      WINDOW w AS (ORDER BY ts DESC, event_key DESC ROWS UNBOUNDED PRECEDING)
       ORDER BY ts DESC, event_key DESC
       LIMIT $8::int
    ) AS page
   ORDER BY ts DESC, event_key DESC`;

export interface EventRow {
  ts: string;
  event_key: string;
  type: string;
  /** Null for a row past the page's byte bound. */
  values: EventValues | null;
}

export interface SelectDeviceEventsQuery {
  tenantId: string;
  device: string;
  /** Inclusive lower and exclusive upper bound, as timestamptz text (may be ±infinity). */
  from: string;
  to: string;
  type: string | undefined;
  before: { ts: string; eventKey: string } | undefined;
  limit: number;
  maxBytes: number;
}

export async function selectDeviceEvents(db: Queryable, query: SelectDeviceEventsQuery): Promise<EventRow[]> {
  const result = await db.query<EventRow>({
    name: 'query-select-device-events',
    text: SQL,
    values: [
      query.tenantId,
      query.device,
      query.from,
      query.to,
      query.type ?? null,
      query.before?.ts ?? null,
      query.before?.eventKey ?? null,
      query.limit,
      query.maxBytes,
    ],
  });
  return result.rows;
}
