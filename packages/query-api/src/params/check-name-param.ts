import { badRequest, isName, NAME_RULE } from '@strata/core';

/** The query parameters that name an event type or a value key, and what each must be. */
const NAME_PARAMS = { type: 'an event type', value: 'a value key' } as const;

/** Refuses a name parameter that no event could carry, in the words the write side refuses it with. */
export function checkNameParam(field: keyof typeof NAME_PARAMS, text: string | undefined): void {
  if (text === undefined || isName(text)) return;
  throw badRequest(`invalid ${field}`, [{ field, reason: `must be ${NAME_PARAMS[field]}: ${NAME_RULE}` }]);
}
