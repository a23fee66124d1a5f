/** A flat map of readings: the only shapes a device value may take. */
export type EventValue = number | string | boolean | null;
export type EventValues = Record<string, EventValue>;
/** A device's labels (issue 13): label name → value, both names (NAME_RULE). */
export type Labels = Record<string, string>;

/** An event after validation and normalisation: what staging, the queue job and history hold. */
export interface NormalizedEvent {
  device: string;
  /** The device's idempotency id, or a content digest when it sent none (see eventKey). */
  key: string;
  /** Event time, epoch milliseconds (UTC). */
  ts: number;
  type: string;
  /**
   * Own keys only are values: `__proto__`, `constructor` and `toString` are plain keys like any other
   * (`__proto__` is defined, not assigned) and survive JSON.stringify into staging and the job. Read
   * it by its own keys (Object.keys / Object.hasOwn), never by `in` or a bare lookup of any name.
   */
  values: EventValues;
  /**
   * The labels this event samples at its ts (decision 0074); absent when it names none (an empty map
   * is normalised away, so the event keeps its label-less key and stores NULL). Own keys only, as values.
   */
  labels?: Labels;
}

export const EVENT_LIMITS = {
  deviceMaxLength: 128,
  idMaxLength: 128,
  /** Names (value keys, `type`, label keys): characters, i.e. Unicode code points. */
  nameMaxLength: 128,
  maxValues: 200,
  /** Labels one event (or one PUT/PATCH) may name; a device holds at most this many too. */
  maxLabels: 32,
  /** String values, in UTF-8 bytes (64 KiB). */
  stringValueMaxBytes: 64 * 1024,
  /**
   * Numbers beyond this are refused: PostgreSQL's float8 ends near 1.8e308, and rollups add and
   * multiply readings, so a sum of two values near the end overflows (SQLSTATE 22003) and would fail
   * the whole mixed-tenant batch it is projected in.
   */
  maxAbsNumber: 1e300,
  maxEventsPerRequest: 10_000,
} as const;

export const DEVICE_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;
/** DEVICE_PATTERN in words: every refusal of a device name (API, CLI) says it this way. */
export const DEVICE_RULE = `1-${EVENT_LIMITS.deviceMaxLength} characters of [A-Za-z0-9._:-]`;

/**
 * A name: 1-128 code points of any Unicode a database can store, i.e. no U+0000 and no lone
 * surrogate (PostgreSQL refuses the first in text and jsonb, and would turn the second into U+FFFD,
 * so two different names could become one). Spaces, commas, `=`, quotes, dots and non-ASCII are all
 * fine. No `u` flag on purpose: without it the pattern sees UTF-16 code units, so a surrogate only
 * passes as half of a pair, and a pair counts as one character.
 */
export const NAME_PATTERN = /^(?:[^\0\uD800-\uDFFF]|[\uD800-\uDBFF][\uDC00-\uDFFF]){1,128}$/;
/** NAME_PATTERN in words: the write side's refusals and the read side's query parameters say it alike. */
export const NAME_RULE = `1-${EVENT_LIMITS.nameMaxLength} characters of well-formed Unicode without U+0000`;
/** Value keys and event types are names (kept as separate exports for the readers that use them). */
export const VALUE_KEY_PATTERN = NAME_PATTERN;
export const TYPE_PATTERN = NAME_PATTERN;
