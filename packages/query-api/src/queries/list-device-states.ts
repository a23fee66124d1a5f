import type { EventValues, Queryable } from '@strata/core';
import type { DeviceSort } from '../params/parse-device-sort.ts';
import type { WhereCondition } from '../params/parse-where.ts';

export interface ListDeviceStatesQuery {
  tenantId: string;
  sort: DeviceSort;
  where: WhereCondition[];
  /** Keyset position from the cursor: [device] or [ts or value text, device]. */
  after: string[] | undefined;
  limit: number;
}

export interface DeviceStateRow {
  device: string;
  ts: string;
  values: EventValues;
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
  if (query.after) {
    const [first, second] = query.after;
    conditions.push(
      sortExpression === undefined
        ? `device ${beyond} ${param(first)}::text`
        : `(${sortExpression}, device) ${beyond} (${param(first)}::${cast}, ${param(second)}::text)`,
    );
  }
  const text = `
    SELECT device, ts, "values", updated_at, ${sortExpression === undefined ? 'NULL' : `${sortExpression}::text`} AS sort_key
      FROM device_state
     WHERE ${conditions.join('\n       AND ')}
     ORDER BY ${sortExpression === undefined ? '' : `${sortExpression} ${direction}, `}device ${direction}
     LIMIT ${param(query.limit)}::int`;
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
