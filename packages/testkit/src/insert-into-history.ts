/**
 * SQL that stores the rows of `select` in history as the drain does (migration 0024): devices new
 * to the dictionary are numbered, then each row goes into `events` under its device's number,
 * skipping rows already stored. `select` yields the columns tenant_id, device, ts, event_key, type,
 * "values" and labels (in any order, by those names); the caller passes its parameters with the
 * returned text. For tests and measurements that write history by hand, not through a drain.
 */
export function insertIntoHistory(select: string): string {
  return `WITH history_rows AS (${select}), history_devices AS (
  INSERT INTO devices AS d (tenant_id, device)
  SELECT DISTINCT tenant_id::uuid, device FROM history_rows ORDER BY 1, 2
  ON CONFLICT (tenant_id, device) DO UPDATE SET device = excluded.device
  RETURNING d.tenant_id, d.device, d.device_no
)
INSERT INTO events (ts, device_no, event_key, type, "values", labels)
SELECT r.ts, n.device_no, r.event_key, nullif(r.type, 'reading'), r."values", r.labels
  FROM history_rows r JOIN history_devices n ON n.tenant_id = r.tenant_id::uuid AND n.device = r.device
ON CONFLICT DO NOTHING`;
}

