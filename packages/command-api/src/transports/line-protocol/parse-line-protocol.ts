/** A field value as line protocol carries it; integers (`i`, `u`) arrive as numbers (decision 0072). */
export type FieldValue = number | string | boolean;

/** One well-formed entry of a line-protocol body. */
export interface LinePoint {
  /** The 1-based line the entry starts on (a string field may hold newlines, so it can end later). */
  line: number;
  endLine: number;
  measurement: string;
  tags: [string, string][];
  fields: [string, FieldValue][];
  /** The timestamp as written (digits, maybe a leading `-`), or undefined when the line has none. */
  timestamp: string | undefined;
}

/** An entry that could not be read, with the reason. */
export interface BadLine {
  line: number;
  reason: string;
}

export type LineEntry = LinePoint | BadLine;

export interface LineParseLimits {
  /** Entries (good or bad) read before giving up: the caller answers 413 past it. */
  maxEntries: number;
  maxTags: number;
  maxFields: number;
}

export interface ParsedLineProtocol {
  /** In body order; blank lines and comments are not entries. */
  entries: LineEntry[];
  /** True when the body holds more than `maxEntries` entries (the rest was not read). */
  overLimit: boolean;
}

export function isBadLine(entry: LineEntry): entry is BadLine {
  return 'reason' in entry;
}

const TAB = 9;
const NEWLINE = 10;
const CR = 13;
const SPACE = 32;
const QUOTE = 34;
const HASH = 35;
const COMMA = 44;
const EQUALS = 61;
const BACKSLASH = 92;

const BOOLEANS = new Map<string, boolean>([
  ['t', true], ['T', true], ['true', true], ['True', true], ['TRUE', true],
  ['f', false], ['F', false], ['false', false], ['False', false], ['FALSE', false],
]);
const INTEGER = /^-?\d+$/;
const UNSIGNED = /^\d+$/;
// InfluxDB's number syntax: no leading `+`, no NaN or Inf, `1.` and `.1` allowed, exponent optional.
const FLOAT = /^-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const INT64_MAX = 9_223_372_036_854_775_807n;
const INT64_MIN = -9_223_372_036_854_775_808n;
const UINT64_MAX = 18_446_744_073_709_551_615n;
/** Names echoed in an error are cut here: a 2 MB key must not make a 2 MB answer. */
const ECHO_MAX = 64;

interface Scan {
  readonly text: string;
  pos: number;
  line: number;
}

/** Thrown inside one entry and caught per entry: the rest of the body is still read. */
class LineSyntaxError extends Error {}

/**
 * Reads InfluxDB line protocol as InfluxDB's own server reads it (models/points.go; the escaping
 * follows the standardised syntax of influxdata/line-protocol): `\,` and `\ ` escape in the
 * measurement; `\,`, `\ ` and `\=` in tag keys, tag values and field keys; in string fields only `\"`
 * and `\\`; any other backslash is a literal one. Every bad entry is reported with its line and why,
 * and reading goes on at the next line, so one answer can name every bad line.
 */
export function parseLineProtocol(text: string, limits: LineParseLimits): ParsedLineProtocol {
  const entries: LineEntry[] = [];
  const scan: Scan = { text, pos: 0, line: 1 };
  const end = text.length;
  while (scan.pos < end) {
    const c = text.charCodeAt(scan.pos);
    if (c === SPACE || c === TAB) scan.pos += 1;
    else if (c === NEWLINE || c === CR) {
      // A lone carriage return between lines is blank space like any other.
      if (!consumeEndOfLine(scan)) scan.pos += 1;
    } else if (c === HASH) skipToNextLine(scan);
    else {
      if (entries.length === limits.maxEntries) return { entries, overLimit: true };
      const line = scan.line;
      try {
        entries.push({ line, ...readEntry(scan, limits) });
      } catch (error) {
        if (!(error instanceof LineSyntaxError)) throw error;
        entries.push({ line, reason: error.message });
        skipToNextLine(scan);
      }
    }
  }
  return { entries, overLimit: false };
}

function readEntry(scan: Scan, limits: LineParseLimits): Omit<LinePoint, 'line'> {
  const measurement = readToken(scan, false);
  if (measurement === '') fail('missing measurement name');
  const tags = readTags(scan, limits.maxTags);
  if (peek(scan) !== SPACE) fail('missing fields (a line is: measurement[,tag=value...] field=value[,...] [timestamp])');
  skipSpaces(scan);
  if (atEndOfLine(scan)) fail('missing fields');
  const fields = readFields(scan, limits.maxFields);
  let timestamp: string | undefined;
  if (peek(scan) === SPACE) {
    skipSpaces(scan);
    if (!atEndOfLine(scan)) timestamp = readTimestamp(scan);
  }
  const endLine = scan.line;
  if (!consumeEndOfLine(scan)) fail(`unexpected ${describeChar(peek(scan))} after the ${timestamp === undefined ? 'fields' : 'timestamp'}`);
  return { endLine, measurement, tags, fields, timestamp };
}

function readTags(scan: Scan, maxTags: number): [string, string][] {
  const tags: [string, string][] = [];
  while (peek(scan) === COMMA) {
    scan.pos += 1;
    const key = readToken(scan, true);
    if (key === '') fail('missing tag key');
    if (peek(scan) !== EQUALS) fail(`missing tag value for tag key ${echo(key)}`);
    scan.pos += 1;
    const value = readToken(scan, true);
    if (value === '') fail(`missing tag value for tag key ${echo(key)}`);
    if (peek(scan) === EQUALS) fail(`unescaped "=" in the value of tag ${echo(key)} (write \\=)`);
    if (tags.length === maxTags) fail(`more than ${maxTags} tags`);
    for (const [known] of tags) if (known === key) fail(`duplicate tag ${echo(key)}`);
    tags.push([key, value]);
  }
  return tags;
}

function readFields(scan: Scan, maxFields: number): [string, FieldValue][] {
  const fields: [string, FieldValue][] = [];
  const seen = new Set<string>();
  for (;;) {
    const key = readToken(scan, true);
    if (key === '') fail('missing field key');
    if (peek(scan) !== EQUALS) fail(`missing "=" after field key ${echo(key)}`);
    scan.pos += 1;
    const value = readFieldValue(scan, key);
    if (fields.length === maxFields) fail(`more than ${maxFields} fields`);
    // InfluxDB keeps one of two same-named fields silently; refusing says what would be lost.
    if (seen.has(key)) fail(`duplicate field ${echo(key)}`);
    seen.add(key);
    fields.push([key, value]);
    if (peek(scan) !== COMMA) return fields;
    scan.pos += 1;
  }
}

function readFieldValue(scan: Scan, key: string): FieldValue {
  if (peek(scan) === QUOTE) return readString(scan, key);
  const { text } = scan;
  const start = scan.pos;
  let pos = start;
  while (pos < text.length) {
    const c = text.charCodeAt(pos);
    if (c === COMMA || c === SPACE || c === NEWLINE || c === CR) break;
    pos += 1;
  }
  scan.pos = pos;
  const raw = text.slice(start, pos);
  if (raw === '') fail(`missing value for field ${echo(key)}`);
  const boolean = BOOLEANS.get(raw);
  if (boolean !== undefined) return boolean;
  const last = raw.charCodeAt(raw.length - 1);
  if (last === 105 /* i */) return readInteger(raw.slice(0, -1), key, INT64_MIN, INT64_MAX, INTEGER, 'integer');
  if (last === 117 /* u */) {
    if (raw.startsWith('-')) fail(`unsigned integer field ${echo(key)} is negative`);
    return readInteger(raw.slice(0, -1), key, 0n, UINT64_MAX, UNSIGNED, 'unsigned integer');
  }
  if (!FLOAT.test(raw)) {
    fail(`invalid value ${echo(raw)} for field ${echo(key)}: a number (1.5, 2e3), an integer (7i), an unsigned integer (7u), a boolean (t, false, ...) or a "string"; NaN and infinities are not numbers`);
  }
  const value = Number(raw);
  if (!Number.isFinite(value)) fail(`field ${echo(key)} is out of the range of a 64-bit float`);
  return value;
}

function readInteger(digits: string, key: string, min: bigint, max: bigint, pattern: RegExp, kind: string): number {
  if (!pattern.test(digits)) fail(`invalid ${kind} for field ${echo(key)}`);
  // Up to 15 digits a double holds the value exactly and no 64-bit bound is near: no BigInt needed.
  const significant = digits.replace(/^(-?)0+(?=\d)/, '$1');
  if (significant.replace('-', '').length > 15) {
    const exact = BigInt(significant);
    if (exact < min || exact > max) fail(`${kind} field ${echo(key)} is out of range (${min}..${max})`);
  }
  // Beyond ±2^53 this is the nearest double, as a JSON body's number would be (decision 0072).
  return Number(significant);
}

function readString(scan: Scan, key: string): string {
  const { text } = scan;
  let pos = scan.pos + 1;
  let start = pos;
  let out = '';
  while (pos < text.length) {
    const c = text.charCodeAt(pos);
    if (c === BACKSLASH) {
      const next = text.charCodeAt(pos + 1);
      if (next === QUOTE || next === BACKSLASH) {
        out += text.slice(start, pos);
        start = pos + 1;
        pos += 2;
        continue;
      }
    } else if (c === QUOTE) {
      scan.pos = pos + 1;
      return out + text.slice(start, pos);
    } else if (c === NEWLINE) {
      scan.line += 1;
    }
    pos += 1;
  }
  scan.pos = pos;
  fail(`unterminated string for field ${echo(key)} (no closing quote before the end of the body)`);
}

function readTimestamp(scan: Scan): string {
  const { text } = scan;
  const start = scan.pos;
  let pos = start;
  while (pos < text.length) {
    const c = text.charCodeAt(pos);
    if (c === SPACE || c === NEWLINE || c === CR) break;
    pos += 1;
  }
  scan.pos = pos;
  const raw = text.slice(start, pos);
  if (!INTEGER.test(raw)) fail(`invalid timestamp ${echo(raw)} (an integer in the request's precision)`);
  const exact = BigInt(raw);
  if (exact < INT64_MIN || exact > INT64_MAX) fail('timestamp is out of the range of a 64-bit integer');
  skipSpaces(scan);
  return raw;
}

/**
 * A measurement (`equalsEnds` false: `=` is an ordinary character there) or a key or tag value. Ends
 * at an unescaped space, comma (or `=`), or the end of the line.
 */
function readToken(scan: Scan, equalsEnds: boolean): string {
  const { text } = scan;
  let pos = scan.pos;
  let start = pos;
  let out = '';
  while (pos < text.length) {
    const c = text.charCodeAt(pos);
    if (c === BACKSLASH) {
      const next = text.charCodeAt(pos + 1);
      if (next === SPACE || next === COMMA || (equalsEnds && next === EQUALS)) {
        out += text.slice(start, pos);
        start = pos + 1;
        pos += 2;
        continue;
      }
    } else if (c === SPACE || c === COMMA || c === NEWLINE || c === CR || (equalsEnds && c === EQUALS)) {
      break;
    }
    pos += 1;
  }
  scan.pos = pos;
  return out + text.slice(start, pos);
}

function peek(scan: Scan): number {
  return scan.text.charCodeAt(scan.pos);
}

function skipSpaces(scan: Scan): void {
  while (scan.text.charCodeAt(scan.pos) === SPACE) scan.pos += 1;
}

function atEndOfLine(scan: Scan): boolean {
  const c = peek(scan);
  return Number.isNaN(c) || c === NEWLINE || (c === CR && isLineEndAfterCr(scan));
}

function isLineEndAfterCr(scan: Scan): boolean {
  const next = scan.text.charCodeAt(scan.pos + 1);
  return Number.isNaN(next) || next === NEWLINE;
}

/** Consumes `\n`, `\r\n` or a final `\r` (or nothing at the end of the body); false elsewhere. */
function consumeEndOfLine(scan: Scan): boolean {
  const c = peek(scan);
  if (Number.isNaN(c)) return true;
  if (c === CR) {
    if (!isLineEndAfterCr(scan)) return false;
    scan.pos += 1;
    if (scan.pos === scan.text.length) return true;
  }
  if (peek(scan) !== NEWLINE) return false;
  scan.pos += 1;
  scan.line += 1;
  return true;
}

function skipToNextLine(scan: Scan): void {
  const next = scan.text.indexOf('\n', scan.pos);
  if (next === -1) scan.pos = scan.text.length;
  else {
    scan.pos = next + 1;
    scan.line += 1;
  }
}

function fail(reason: string): never {
  throw new LineSyntaxError(reason);
}

function echo(name: string): string {
  return JSON.stringify(name.length <= ECHO_MAX ? name : `${name.slice(0, ECHO_MAX)}…`);
}

function describeChar(c: number): string {
  if (c === CR) return 'carriage return';
  return `character ${JSON.stringify(String.fromCharCode(c))}`;
}
