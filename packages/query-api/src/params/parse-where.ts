import { badRequest, VALUE_KEY_PATTERN } from '@strata/core';
import type { WhereCondition, WhereOperator } from '../model/where-condition.ts';


const MAX_CONDITIONS = 20;
// Operators cannot occur in value keys ([A-Za-z0-9_.:-]), so the first operator ends the key.
const CONDITION = /^([A-Za-z0-9_.:-]{1,64})(!=|>=|<=|=|>|<)(.*)$/s;
const NUMBER = /^-?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/**
 * `where=temp>36.5,status=ok`: comma-separated conditions, all of which must hold. Ordering
 * operators need a number; equality compares numbers numerically and anything else as text.
 */
export function parseWhere(where: string | undefined): WhereCondition[] {
  if (where === undefined || where === '') return [];
  const parts = where.split(',');
  if (parts.length > MAX_CONDITIONS) fail(`at most ${MAX_CONDITIONS} conditions`);
  return parts.map((part) => {
    const match = CONDITION.exec(part.trim());
    if (!match) fail(`"${part}" is not <value key><op><value> with op one of = != > >= < <=`);
    const [, key, op, text] = match as unknown as [string, string, WhereOperator, string];
    if (!VALUE_KEY_PATTERN.test(key)) fail(`"${key}" is not a value key`);
    // The number is passed on as JavaScript prints it, not as sent: every stored value is a double
    // written by JavaScript, and PostgreSQL's numeric refuses exponents that a double just rounds
    // (1e-99999 is 0 here but an overflow there, SQLSTATE 22003).
    const number = NUMBER.test(text) && Number.isFinite(Number(text)) ? String(Number(text)) : undefined;
    if (number === undefined && op !== '=' && op !== '!=') fail(`"${part}": ${op} needs a number`);
    return { key, op, text, number };
  });
}

function fail(reason: string): never {
  throw badRequest('invalid where filter', [{ field: 'where', reason }]);
}
