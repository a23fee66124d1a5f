import { EVENT_LIMITS, NAME_RULE, type Labels } from './event.ts';
import { isName } from './is-name.ts';
import { setOwnKey } from './set-own-key.ts';

/** The label rules in words, for every refusal (events, PUT/PATCH, line-protocol tags). */
export const LABEL_RULE = `at most ${EVENT_LIMITS.maxLabels} labels, each name and value ${NAME_RULE}`;

export interface LabelProblem {
  field: string;
  reason: string;
}

/** A label map as PATCH takes it: `null` removes the label. */
export type LabelPatch = Record<string, string | null>;

export type CheckedLabels<AllowNull extends boolean> =
  | { labels: AllowNull extends true ? LabelPatch : Labels }
  | { problems: LabelProblem[] };

/**
 * Validates a label map (an event's `labels`, a PUT or PATCH body's `labels`). Names and values are
 * names (NAME_RULE): well-formed Unicode, no U+0000, 1-128 code points, so PostgreSQL stores exactly
 * what was sent and two labels can never collapse into one. `null` values are accepted only when
 * `allowNull` (PATCH: null removes); events and PUT carry strings. `__proto__` is a plain own key.
 * Reports every problem, each with its field (`labels.<name>`, or `labels` for the map itself).
 */
export function checkLabels<AllowNull extends boolean = false>(
  input: unknown,
  options: { field?: string; allowNull?: AllowNull } = {},
): CheckedLabels<AllowNull> {
  const field = options.field ?? 'labels';
  const allowNull = options.allowNull === true;
  const problems: LabelProblem[] = [];
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return { problems: [{ field, reason: `must be an object of ${allowNull ? 'string or null' : 'string'} values` }] };
  }
  const entries = Object.entries(input);
  if (entries.length > EVENT_LIMITS.maxLabels) {
    return { problems: [{ field, reason: `must have at most ${EVENT_LIMITS.maxLabels} labels` }] };
  }
  const labels: LabelPatch = {};
  for (const [name, value] of entries) {
    if (!isName(name)) {
      problems.push({ field: `${field}.${shortenName(name)}`, reason: `label names must be ${NAME_RULE}` });
      continue;
    }
    if (value === null && allowNull) {
      setOwnKey(labels, name, null);
      continue;
    }
    if (typeof value !== 'string' || !isName(value)) {
      const expected = allowNull ? `${NAME_RULE}, or null to remove the label` : NAME_RULE;
      problems.push({ field: `${field}.${name}`, reason: `must be a string of ${expected}` });
      continue;
    }
    setOwnKey(labels, name, value);
  }
  if (problems.length > 0) return { problems };
  return { labels } as CheckedLabels<AllowNull>;
}

/** A refused name is echoed in the error, but never at a size that would bloat the answer. */
function shortenName(name: string): string {
  return name.length <= 4 * EVENT_LIMITS.nameMaxLength ? name : `${name.slice(0, 64)}…`;
}
