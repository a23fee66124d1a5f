import { badRequest, DEVICE_PATTERN } from '@strata/core';
import { illFormedReason } from './refuse-ill-formed-text.ts';

/**
 * What each position of a cursor holds. A cursor is the client's text, so every position is checked
 * here against what the statement will cast it to: a forged cursor is a 400 on `cursor`, never a cast
 * error in PostgreSQL (a 500, and a failure counted against a replica).
 */
export type CursorPart = 'device' | 'timestamp' | 'json-scalar' | 'event-key' | 'label-value';

/** Keyset positions are short: a device name, a timestamp, one value's JSON text (≤ 64 KiB strings). */
const MAX_PART_LENGTH = 70_000;

// timestamptz as PostgreSQL prints it with DateStyle ISO: '2026-11-20 12:00:00.123456+00' (offset may
// carry minutes and seconds).
const TIMESTAMPTZ = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(\.\d{1,6})?[+-](0\d|1[0-5])(:[0-5]\d){0,2}$/;

/**
 * Keyset cursors are opaque to clients: base64url of a small JSON array. The first element names
 * the ordering the cursor belongs to, so a cursor replayed with another sort is refused instead of
 * silently skipping or repeating rows.
 */
export function encodeCursor(ordering: string, position: (string | null)[]): string {
  return Buffer.from(JSON.stringify([ordering, ...position])).toString('base64url');
}

/** The position a cursor holds, checked against the ordering and the parts the caller expects. */
export function decodeCursor(cursor: string, ordering: string, parts: readonly CursorPart[]): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  if (!Array.isArray(parsed) || parsed.length !== parts.length + 1 || !parsed.every((part) => typeof part === 'string')) {
    throw invalid('is not a cursor this endpoint issued');
  }
  if (parsed[0] !== ordering) {
    throw badRequest('cursor belongs to another ordering', [
      { field: 'cursor', reason: 'was issued for a different sort or order; start again without a cursor' },
    ]);
  }
  const position = parsed.slice(1) as string[];
  position.forEach((text, index) => {
    const reason = partProblem(text, parts[index] as CursorPart);
    if (reason) throw invalid(reason);
  });
  return position;
}

function partProblem(text: string, part: CursorPart): string | undefined {
  const illFormed = illFormedReason(text);
  if (illFormed) return `holds a position that ${illFormed}`;
  if (text.length > MAX_PART_LENGTH) return 'holds a position that is too long';
  switch (part) {
    case 'device':
      return DEVICE_PATTERN.test(text) ? undefined : 'holds a position that is not a device name';
    case 'event-key':
      return text.length > 0 && text.length <= 256 ? undefined : 'holds a position that is not an event key';
    case 'label-value':
      return text.length > 0 && [...text].length <= 128 ? undefined : 'holds a position that is not a label value';
    case 'timestamp':
      return isTimestamptz(text) ? undefined : 'holds a position that is not a timestamp';
    case 'json-scalar':
      return isJsonScalar(text) ? undefined : 'holds a position that is not a value';
  }
}

/** A real calendar instant in the years PostgreSQL and our data share (events are within 1970..9999). */
function isTimestamptz(text: string): boolean {
  const match = TIMESTAMPTZ.exec(text);
  if (!match) return false;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  return (
    year >= 1 &&
    date.getUTCFullYear() === year &&
    date.getUTCMonth() === month - 1 &&
    date.getUTCDate() === day &&
    hour < 24 &&
    minute < 60 &&
    second < 60
  );
}

/**
 * Device values are flat (number, string, boolean, null), so a sort position is one JSON scalar;
 * numbers must be finite (jsonb refuses what overflows numeric), and strings must be jsonb-storable.
 */
function isJsonScalar(text: string): boolean {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return false;
  }
  if (value === null || typeof value === 'boolean') return true;
  // 1e400 parses to Infinity, 1e-20000 to 0: both overflow PostgreSQL's numeric.
  if (typeof value === 'number') return Number.isFinite(value) && !/[eE][+-]?\d{4,}/.test(text);
  return typeof value === 'string' && illFormedReason(value) === undefined;
}

function invalid(reason: string) {
  return badRequest('invalid cursor', [{ field: 'cursor', reason }]);
}
