import { badRequest, isName, NAME_RULE } from '@strata/core';

/**
 * A label's name or value as a group read names it (path or `?label=`): the write side takes label
 * names and values by core's name rule, so anything else names no group and is refused, naming the
 * parameter as the client sent it, rather than answered as an empty group.
 */
export function checkLabelParam(field: string, text: string | undefined, what: 'a label name' | 'a label value'): string {
  if (text !== undefined && isName(text)) return text;
  throw badRequest(`invalid ${field}`, [{ field, reason: `must be ${what}: ${NAME_RULE}` }]);
}

/** `?value=`, the value key a group read aggregates: required, and a name as the write side takes it. */
export function requireValueKey(text: string | undefined): string {
  if (text === undefined) throw badRequest('missing value', [{ field: 'value', reason: `required: the value key to aggregate (${NAME_RULE})` }]);
  if (!isName(text)) throw badRequest('invalid value', [{ field: 'value', reason: `must be a value key: ${NAME_RULE}` }]);
  return text;
}

/**
 * `?label=name:value` of the device list: split at the first `:`, so a value may hold colons (a
 * name cannot be asked for with one; such a label is still listed by its groups). Both halves
 * follow the name rule.
 */
export function parseLabelFilter(text: string | undefined): { name: string; value: string } | undefined {
  if (text === undefined) return undefined;
  const colon = text.indexOf(':');
  if (colon < 0) throw badRequest('invalid label', [{ field: 'label', reason: 'must be name:value' }]);
  const name = text.slice(0, colon);
  const value = text.slice(colon + 1);
  if (!isName(name)) throw badRequest('invalid label', [{ field: 'label', reason: `the name before ':' must be ${NAME_RULE}` }]);
  if (!isName(value)) throw badRequest('invalid label', [{ field: 'label', reason: `the value after ':' must be ${NAME_RULE}` }]);
  return { name, value };
}

/** A group series' aggregates: a device series' and `devices`, how many members reported in the bucket. */
export const GROUP_AGGREGATES = ['avg', 'min', 'max', 'sum', 'count', 'last', 'devices'] as const;
export type GroupAggregate = (typeof GROUP_AGGREGATES)[number];

/** `agg=sum,devices`: a comma-separated list, in the order asked, each at most once (default avg). */
export function parseGroupAggregates(text: string | undefined): GroupAggregate[] {
  const names = (text ?? 'avg').split(',').map((part) => part.trim());
  for (const name of names) {
    if (!(GROUP_AGGREGATES as readonly string[]).includes(name)) {
      throw badRequest('invalid agg', [{ field: 'agg', reason: `"${name}" is not one of ${GROUP_AGGREGATES.join(', ')}` }]);
    }
  }
  return [...new Set(names)] as GroupAggregate[];
}
