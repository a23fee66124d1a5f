import { DEVICE_PATTERN, DEVICE_RULE, badRequest, checkLabels, type FieldError, type LabelPatch } from '@strata/core';

/**
 * The `:device` of a label route, or 400 naming `device`. Fastify's schema check is only attached
 * (attachValidation): the routes report every problem in the same words as an event's.
 */
export function readLabelsDevice(params: unknown): string {
  const device = (params as { device?: unknown } | undefined)?.device;
  if (typeof device !== 'string' || !DEVICE_PATTERN.test(device)) {
    throw badRequest('invalid device', [{ field: 'device', reason: `must be ${DEVICE_RULE}` }]);
  }
  return device;
}

/**
 * The label map of a PUT (strings) or PATCH (strings, or null to remove) body `{"labels": {...}}`,
 * checked by core's label rules (checkLabels: at most 32 labels, names and values of NAME_RULE), or a
 * 400 naming every field at fault. Any other top-level field is refused rather than ignored, so a
 * misspelt `label` is not taken as "remove everything".
 */
export function readLabelsBody(body: unknown, allowNull: boolean): LabelPatch {
  if (typeof body !== 'object' || body === null || Array.isArray(body) || !Object.hasOwn(body, 'labels')) {
    throw badRequest('body is invalid', [{ field: 'body', reason: 'must be a JSON object {"labels": {...}}' }]);
  }
  const problems: FieldError[] = [];
  for (const name of Object.keys(body)) {
    if (name !== 'labels') problems.push({ field: name.length <= 64 ? name : `${name.slice(0, 64)}…`, reason: 'is not a field of this body (only labels)' });
  }
  const checked = checkLabels((body as { labels: unknown }).labels, { allowNull });
  if ('problems' in checked) problems.push(...checked.problems);
  if (problems.length > 0 || 'problems' in checked) throw badRequest('body is invalid', problems);
  return checked.labels;
}
