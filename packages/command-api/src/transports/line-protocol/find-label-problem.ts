import { EVENT_LIMITS, isName, NAME_RULE, type FieldError } from '@strata/core';

/** SPEC "Groups (labels)": at most 32 labels a device, so at most 32 on one point. */
export const MAX_LABELS = EVENT_LIMITS.maxLabels;

/**
 * Why a line's other tags (those that are not its device tag) cannot be the device's labels, or
 * undefined. They become the event's `labels` (lines-to-raw-events), which core checks again; this
 * check comes first so the answer names the tag as the line wrote it, not as `labels.<name>`. A label
 * name and value are both names: 1-128 characters of well-formed Unicode without U+0000.
 */
export function findLabelProblem(tags: [string, string][]): Omit<FieldError, 'index'> | undefined {
  if (tags.length > MAX_LABELS) {
    return { field: 'tags', reason: `at most ${MAX_LABELS} tags besides the device tag (they are the device's labels)` };
  }
  for (const [key, value] of tags) {
    if (!isName(key)) return { field: `tag ${echo(key)}`, reason: `tag keys must be ${NAME_RULE}` };
    if (!isName(value)) return { field: `tag ${echo(key)}`, reason: `tag values must be ${NAME_RULE}` };
  }
  return undefined;
}

function echo(name: string): string {
  return JSON.stringify(name.length <= 64 ? name : `${name.slice(0, 64)}…`);
}
