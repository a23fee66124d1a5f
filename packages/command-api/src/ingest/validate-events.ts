import { normalizeEvent, type FieldError, type NormalizedEvent } from '@strata/core';

/**
 * Validates every event of a request and reports every problem (by index and field); the
 * request is accepted only when all are valid, so a bad batch never stores a part of itself.
 */
export function validateEvents(
  raw: unknown[],
  earlierErrors: FieldError[],
): { events: NormalizedEvent[]; errors: FieldError[] } {
  const errors = [...earlierErrors];
  const failed = new Set(earlierErrors.map((error) => error.index));
  const events: NormalizedEvent[] = [];
  for (let index = 0; index < raw.length; index++) {
    if (failed.has(index)) continue;
    const result = normalizeEvent(raw[index], index);
    if ('errors' in result) errors.push(...result.errors);
    else events.push(result.event);
  }
  errors.sort((a, b) => (a.index ?? 0) - (b.index ?? 0));
  return { events, errors };
}
