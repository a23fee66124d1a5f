import { EVENT_LIMITS, NAME_PATTERN } from './event.ts';

/**
 * Whether a text is a name (NAME_RULE): a value key, a type, a label name or value, a line-protocol
 * tag, or a read's parameter naming one of them; the one check of the rule, write side and read side.
 * The length test comes first, so a 5 MiB name is refused without running the pattern over it.
 */
export function isName(text: string): boolean {
  return text.length <= 2 * EVENT_LIMITS.nameMaxLength && NAME_PATTERN.test(text);
}
