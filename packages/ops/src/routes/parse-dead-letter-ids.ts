import { badRequest } from '@strata/core';

/** Ids per action: one retry batch, answered within the retry's wait. */
export const MAX_DEAD_LETTER_IDS = 100;
/** A dead letter's id: a positive bigint, written as the CLI takes it (no sign, no leading zero). */
const ID = /^[1-9][0-9]{0,17}$/;

/**
 * The body of a retry or drop, `{"ids": ["12", …]}`, checked by hand rather than by a route schema:
 * Fastify's validator coerces (`"ids": "12"` would become a list) and silently strips unknown fields
 * (`"all": true` would be dropped, not refused), and an action that changes data must refuse both.
 * Repeated ids count once.
 */
export function parseDeadLetterIds(body: unknown): string[] {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalid('body', 'must be an object {"ids": [...]}');
  const extra = Object.keys(body).find((name) => name !== 'ids');
  if (extra !== undefined) throw invalid('body', `has a field other than ids: ${JSON.stringify(extra.slice(0, 40))}`);
  const { ids } = body as { ids?: unknown };
  if (!Array.isArray(ids)) throw invalid('body.ids', 'must be a list of dead-letter ids');
  if (ids.length === 0 || ids.length > MAX_DEAD_LETTER_IDS) throw invalid('body.ids', `must hold 1 to ${MAX_DEAD_LETTER_IDS} ids`);
  const bad = ids.findIndex((id) => typeof id !== 'string' || !ID.test(id));
  if (bad >= 0) throw invalid(`body.ids.${bad}`, 'must be a dead-letter id: a string of 1-18 digits, not starting with 0');
  return [...new Set(ids as string[])];
}

function invalid(field: string, reason: string): Error {
  return badRequest('request is invalid', [{ field, reason }]);
}
