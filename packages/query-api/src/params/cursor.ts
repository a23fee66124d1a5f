import { badRequest } from '@strata/core';

/**
 * Keyset cursors are opaque to clients: base64url of a small JSON array. The first element names
 * the ordering the cursor belongs to, so a cursor replayed with another sort is refused instead of
 * silently skipping or repeating rows.
 */
export function encodeCursor(ordering: string, position: (string | null)[]): string {
  return Buffer.from(JSON.stringify([ordering, ...position])).toString('base64url');
}

/** The position a cursor holds, checked against the ordering and arity the caller expects. */
export function decodeCursor(cursor: string, ordering: string, arity: number): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  if (
    !Array.isArray(parsed) ||
    parsed.length !== arity + 1 ||
    !parsed.every((part) => typeof part === 'string')
  ) {
    throw badRequest('invalid cursor', [{ field: 'cursor', reason: 'is not a cursor this endpoint issued' }]);
  }
  if (parsed[0] !== ordering) {
    throw badRequest('cursor belongs to another ordering', [
      { field: 'cursor', reason: 'was issued for a different sort or order; start again without a cursor' },
    ]);
  }
  return parsed.slice(1) as string[];
}
