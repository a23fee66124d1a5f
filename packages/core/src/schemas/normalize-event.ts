import type { FieldError } from '../errors/app-error.ts';
import { parseEventTime } from '../time/parse-event-time.ts';
import { checkLabels } from './check-labels.ts';
import { eventKey } from './event-key.ts';
import { isName } from './is-name.ts';
import { isStorableText } from './is-storable-text.ts';
import { setOwnKey } from './set-own-key.ts';
import {
  DEVICE_PATTERN,
  DEVICE_RULE,
  EVENT_LIMITS,
  NAME_RULE,
  type EventValue,
  type EventValues,
  type Labels,
  type NormalizedEvent,
} from './event.ts';

/**
 * Top-level fields with a meaning of their own; in the flat form every other scalar is a value.
 * `labels` joined in issue 13: a flat event's `labels` is its label map, never a value named labels.
 */
const RESERVED = new Set(['device', 'id', 'ts', 'timestamp', 'type', 'values', 'labels']);

const MUST_BE_NAME = `must be ${NAME_RULE}`;
const TEXT_RULE = 'must be well-formed Unicode without U+0000 (no lone surrogates)';
// Below this many UTF-16 units a string cannot exceed the byte limit (3 bytes per unit at most).
const SURELY_SMALL_STRING = Math.floor(EVENT_LIMITS.stringValueMaxBytes / 3);

type Result = { event: NormalizedEvent } | { errors: FieldError[] };

/**
 * Validates one event and brings it to its normal form, accepting both the documented shape
 * (`values` object) and the flat shape devices already send (`timestamp`, other scalars as values).
 * Reports every problem of the event, each with the field it concerns. Everything PostgreSQL could
 * refuse is refused here: one tenant's event must never fail the mixed batch it is stored with.
 */
export function normalizeEvent(raw: unknown, index?: number): Result {
  const errors: FieldError[] = [];
  const fail = (field: string, reason: string): void => {
    errors.push(index === undefined ? { field, reason } : { index, field, reason });
  };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    fail('event', 'must be a JSON object');
    return { errors };
  }
  const input = raw as Record<string, unknown>;

  const device = input.device;
  if (typeof device !== 'string') fail('device', 'is required and must be a string');
  else if (!DEVICE_PATTERN.test(device)) fail('device', `must be ${DEVICE_RULE}`);

  const tsField = input.ts !== undefined ? 'ts' : 'timestamp';
  const tsInput = input.ts ?? input.timestamp;
  let ts = 0;
  if (tsInput === undefined) fail('ts', 'is required');
  else {
    const parsed = parseEventTime(tsInput);
    if ('reason' in parsed) fail(tsField, parsed.reason);
    else ts = parsed.ms;
  }

  let type = 'reading';
  if (input.type !== undefined) {
    if (typeof input.type !== 'string' || !isName(input.type)) fail('type', MUST_BE_NAME);
    else type = input.type;
  }

  let id: string | undefined;
  if (input.id !== undefined && input.id !== null) {
    if (typeof input.id === 'number' && Number.isSafeInteger(input.id)) id = String(input.id);
    else if (typeof input.id !== 'string' || input.id.length < 1 || input.id.length > EVENT_LIMITS.idMaxLength) {
      fail('id', `must be a string of 1-${EVENT_LIMITS.idMaxLength} characters`);
    } else if (!isStorableText(input.id)) fail('id', TEXT_RULE);
    else id = input.id;
  }

  const values = collectValues(input, fail);
  const labels = collectLabels(input.labels, fail);
  if (errors.length > 0) return { errors };
  const event: NormalizedEvent = { device: device as string, key: eventKey(id, type, values, labels), ts, type, values };
  if (labels !== undefined) event.labels = labels;
  return { event };
}

/** An event's labels; absent, `null` and `{}` all mean none (the event keeps its label-less key). */
function collectLabels(input: unknown, fail: (field: string, reason: string) => void): Labels | undefined {
  if (input === undefined || input === null) return undefined;
  const checked = checkLabels(input);
  if ('problems' in checked) {
    for (const problem of checked.problems) fail(problem.field, problem.reason);
    return undefined;
  }
  return Object.keys(checked.labels).length > 0 ? checked.labels : undefined;
}

function collectValues(input: Record<string, unknown>, fail: (field: string, reason: string) => void): EventValues {
  const values: EventValues = {};
  let entries: [string, unknown][];
  let prefix: string;
  if (input.values !== undefined) {
    if (typeof input.values !== 'object' || input.values === null || Array.isArray(input.values)) {
      fail('values', 'must be an object of number, string, boolean or null');
      return values;
    }
    entries = Object.entries(input.values);
    prefix = 'values.';
  } else {
    entries = Object.entries(input).filter(([key]) => !RESERVED.has(key));
    prefix = '';
  }
  if (entries.length > EVENT_LIMITS.maxValues) {
    fail('values', `must have at most ${EVENT_LIMITS.maxValues} entries`);
    return values;
  }
  for (const [key, value] of entries) {
    if (!isName(key)) {
      fail(prefix + shorten(key), `value names ${MUST_BE_NAME}`);
      continue;
    }
    const reason = valueProblem(value);
    if (reason) fail(prefix + key, reason);
    else setOwnKey(values, key, value as EventValue);
  }
  return values;
}

/** A refused name is echoed in the error, but never at a size that would bloat the answer. */
function shorten(name: string): string {
  return name.length <= 4 * EVENT_LIMITS.nameMaxLength ? name : `${name.slice(0, 64)}…`;
}

function valueProblem(value: unknown): string | undefined {
  if (value === null || typeof value === 'boolean') return undefined;
  if (typeof value === 'number') {
    return Number.isFinite(value) && Math.abs(value) <= EVENT_LIMITS.maxAbsNumber
      ? undefined
      : `must be a finite number of magnitude at most ${EVENT_LIMITS.maxAbsNumber}`;
  }
  if (typeof value === 'string') {
    if (!isStorableText(value)) return TEXT_RULE;
    if (value.length <= SURELY_SMALL_STRING) return undefined;
    return value.length <= EVENT_LIMITS.stringValueMaxBytes && Buffer.byteLength(value, 'utf8') <= EVENT_LIMITS.stringValueMaxBytes
      ? undefined
      : `strings may be at most ${EVENT_LIMITS.stringValueMaxBytes} bytes (64 KiB) of UTF-8`;
  }
  return 'must be a number, string, boolean or null (values are a flat map)';
}
