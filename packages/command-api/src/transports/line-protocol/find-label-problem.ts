import { NAME_PATTERN, NAME_RULE, type FieldError } from '@strata/core';

/** SPEC "Groups (labels)": at most 32 labels a device. */
export const MAX_LABELS = 32;

/**
 * Why a line's other tags (those that are not its device tag) could not be a device's labels, or
 * undefined. Labels are not stored yet (issue 13); checking them now keeps what is accepted today
 * acceptable once they are (decision 0072). A label key and value are both names: 1-128 characters
 * of well-formed Unicode without U+0000.
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

function isName(text: string): boolean {
  // The length test first: a megabyte tag is refused without running the pattern over it.
  return text.length <= 256 && NAME_PATTERN.test(text);
}

function echo(name: string): string {
  return JSON.stringify(name.length <= 64 ? name : `${name.slice(0, 64)}…`);
}
