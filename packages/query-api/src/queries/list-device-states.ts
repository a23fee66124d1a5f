import type { EventValues, Labels, Queryable } from '@strata/core';
import type { DeviceSort } from '../model/device-sort.ts';
import type { WhereCondition } from '../model/where-condition.ts';

export interface ListDeviceStatesQuery {
  tenantId: string;
  sort: DeviceSort;
  where: WhereCondition[];
  /** `?label=name:value`: only devices holding that label value now (their current version). */
  labelFilter?: { name: string; value: string } | undefined;
  /** Keyset position from the cursor: [device] or [ts or value text, device]. */
  after: string[] | undefined;
  limit: number;
  /** Values of the rows before one past this many bytes (JSON text) are left out: see below. */
  maxBytes: number;
}

export interface DeviceStateRow {
  device: string;
  ts: string;
  /** Null for a row that would take the page past `maxBytes`: the page ends before it. */
  values: EventValues | null;
  /** The device's labels now (current versions); null with `values` past `maxBytes`. */
  labels: Labels | null;
  updated_at: string;
  /** The sort value as text (timestamptz or jsonb text), exact enough to resume from. */
  sort_key: string | null;
}

const COMPARISON: Record<WhereCondition['op'], string> = { '=': '=', '!=': '=', '>': '>', '>=': '>=', '<': '<', '<=': '<=' };

/**
 * One page of latest states. The statement's shape depends on sort and filters, so it is assembled
 * here, but only from fixed fragments: keys, values and cursor positions are always `$n` parameters.
 * It is not a named statement: filter combinations are unbounded and each name is cached per connection.
 */
export async function listDeviceStates(db: Queryable, query: ListDeviceStatesQuery): Promise<DeviceStateRow[]> {
  const values: unknown[] = [query.tenantId];
  const param = (value: unknown): string => {
    values.push(value);
    return `$${values.length}`;
  };
  const direction = query.sort.order === 'asc' ? 'ASC' : 'DESC';
  const beyond = query.sort.order === 'asc' ? '>' : '<';
  // The jsonb total order (null < string < number < boolean < object) keeps devices lacking the key
  // in the listing, each exactly once, instead of dropping them or ordering them arbitrarily.
  const sortExpression =
    query.sort.kind === 'device'
      ? undefined
      : query.sort.kind === 'ts'
        ? 'ts'
        : `coalesce("values" -> ${param(query.sort.key)}::text, 'null'::jsonb)`;
  const cast = query.sort.kind === 'ts' ? 'timestamptz' : 'jsonb';

  const conditions = ['tenant_id = $1', ...query.where.map((condition) => whereSql(condition, param))];
  if (query.labelFilter) {
    // label_versions_group_idx: (tenant, label, value, valid_to = infinity, device), a current member each.
    conditions.push(
      `EXISTS (SELECT 1 FROM label_versions v WHERE v.tenant_id = $1 AND v.label = ${param(query.labelFilter.name)}::text
                  AND v.value = ${param(query.labelFilter.value)}::text AND v.valid_to = 'infinity' AND v.device = s.device)`,
    );
  }
  if (query.after) {
    const [first, second] = query.after;
    conditions.push(
      sortExpression === undefined
        ? `device ${beyond} ${param(first)}::text`
        : `(${sortExpression}, device) ${beyond} (${param(first)}::${cast}, ${param(second)}::text)`,
    );
  }
  const order = `${sortExpression === undefined ? '' : `${sortExpression} ${direction}, `}device ${direction}`;
  // Labels are the current versions (as `?label=` and GET /v1/groups see them; latest state also lays
  // the samples of noted minutes over them). A page is bounded in bytes as well as rows (a device may
  // hold 1,000 values of 64 KiB, and 32 labels): a running
  // sum of the values' JSON size, in the page's own order, is computed as the rows stream out of the
  // ordered scan (one sort, the LIMIT still stops it early), and rows that start past the bound come
  // back without their values, only to tell the caller where the page ends. The first row always fits.
  const maxBytes = param(query.maxBytes);
  const text = `
    SELECT device, ts, CASE WHEN bytes_before < ${maxBytes}::bigint THEN "values" END AS "values",
           CASE WHEN bytes_before < ${maxBytes}::bigint THEN labels END AS labels, updated_at, sort_key
      FROM (
        SELECT device, ts, "values", labels, updated_at, ${sortExpression === undefined ? 'NULL' : `${sortExpression}::text`} AS sort_key,
               row_number() OVER w AS position,
               coalesce(sum(octet_length("values"::text) + octet_length(labels::text)) OVER w, 0)
                 - octet_length("values"::text) - octet_length(labels::text) AS bytes_before
          FROM device_state s
         CROSS JOIN LATERAL (
           -- The device's current versions by primary key, \`value IS NOT NULL\` outside the lookup (OFFSET 0):
           -- inside, it lets the planner read label_versions_current_idx, all of the tenant's current
           -- labels, once per listed device (hostile review: 540,000 pages, 2 s, for 10,000 devices).
           SELECT coalesce(jsonb_object_agg(v.label, v.value) FILTER (WHERE v.value IS NOT NULL), '{}'::jsonb) AS labels
             FROM (SELECT label, value FROM label_versions
                    WHERE tenant_id = s.tenant_id AND device = s.device AND valid_to = 'infinity' OFFSET 0) v
         ) l
         WHERE ${conditions.join('\n           AND ')}
        WINDOW w AS (ORDER BY ${order} ROWS UNBOUNDED PRECEDING)
         ORDER BY ${order}
         LIMIT ${param(query.limit)}::int
      ) AS page
     ORDER BY position`;
  const result = await db.query<DeviceStateRow>(text, values);
  return result.rows;
}

function whereSql(condition: WhereCondition, param: (value: unknown) => string): string {
  const key = param(condition.key);
  // ->> gives the text of strings and booleans ('true'), and NULL for JSON null or a missing key.
  const asText = (): string => `("values" ->> ${key}::text) = ${param(condition.text)}::text`;
  let test: string;
  if (condition.number !== undefined) {
    // The cast sits inside the number branch, so a string value never reaches ::numeric and a filter
    // can never fail the statement, whatever the devices stored.
    const value = `"values" -> ${key}::text`;
    const numeric = `(${value})::numeric ${COMPARISON[condition.op]} ${param(condition.number)}::numeric`;
    const otherwise = condition.op === '=' || condition.op === '!=' ? asText() : 'false';
    test = `CASE WHEN jsonb_typeof(${value}) = 'number' THEN ${numeric} ELSE ${otherwise} END`;
  } else {
    test = asText();
  }
  return condition.op === '!=' ? `(${test}) IS NOT TRUE` : `(${test})`;
}
