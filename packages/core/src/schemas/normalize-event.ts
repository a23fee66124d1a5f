import type { FieldError } from '../errors/app-error.ts';
import { parseEventTime } from '../time/parse-event-time.ts';
import { eventKey } from './event-key.ts';
import {
  DEVICE_PATTERN,
  EVENT_LIMITS,
  TYPE_PATTERN,
  VALUE_KEY_PATTERN,
  type EventValue,
  type EventValues,
  type NormalizedEvent,
} from './event.ts';

/** Top-level fields with a meaning of their own; in the flat form every other scalar is a value. */
const RESERVED = new Set(['device', 'id', 'ts', 'timestamp', 'type', 'values']);

type Result = { event: NormalizedEvent } | { errors: FieldError[] };

/**
 * Validates one event and brings it to its normal form, accepting both the documented shape
 * (`values` object) and the flat shape devices already send (`timestamp`, other scalars as values).
 * Reports every problem of the event, each with the field it concerns.
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
  else if (!DEVICE_PATTERN.test(device)) fail('device', 'must be 1-128 characters of [A-Za-z0-9._:-]');

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
    if (typeof input.type !== 'string' || !TYPE_PATTERN.test(input.type)) {
      fail('type', 'must be 1-64 characters of [A-Za-z0-9_.:-]');
    } else type = input.type;
  }

  let id: string | undefined;
  if (input.id !== undefined && input.id !== null) {
    if (typeof input.id === 'number' && Number.isSafeInteger(input.id)) id = String(input.id);
    else if (typeof input.id !== 'string' || input.id.length < 1 || input.id.length > EVENT_LIMITS.idMaxLength) {
      fail('id', `must be a string of 1-${EVENT_LIMITS.idMaxLength} characters`);
    } else id = input.id;
  }

  const values = collectValues(input, fail);
  if (errors.length > 0) return { errors };
  return { event: { device: device as string, key: eventKey(id, type, values), ts, type, values } };
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
    const field = prefix + key;
    if (!VALUE_KEY_PATTERN.test(key)) {
      fail(field, 'value names must be 1-64 characters of [A-Za-z0-9_.:-]');
      continue;
    }
    const reason = valueProblem(value);
    if (reason) fail(field, reason);
    else values[key] = value as EventValue;
  }
  return values;
}

function valueProblem(value: unknown): string | undefined {
  if (value === null || typeof value === 'boolean') return undefined;
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : 'must be a finite number';
  if (typeof value === 'string') {
    return value.length <= EVENT_LIMITS.stringValueMaxLength
      ? undefined
      : `strings may be at most ${EVENT_LIMITS.stringValueMaxLength} characters`;
  }
  return 'must be a number, string, boolean or null (values are a flat map)';
}
