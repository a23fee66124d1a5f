/** A flat map of readings: the only shapes a device value may take. */
export type EventValue = number | string | boolean | null;
export type EventValues = Record<string, EventValue>;

/** An event after validation and normalisation: what staging, the queue job and history hold. */
export interface NormalizedEvent {
  device: string;
  /** The device's idempotency id, or a content digest when it sent none (see eventKey). */
  key: string;
  /** Event time, epoch milliseconds (UTC). */
  ts: number;
  type: string;
  values: EventValues;
}

export const EVENT_LIMITS = {
  deviceMaxLength: 128,
  idMaxLength: 128,
  typeMaxLength: 64,
  maxValues: 200,
  valueKeyMaxLength: 64,
  stringValueMaxLength: 1024,
  maxEventsPerRequest: 10_000,
} as const;

export const DEVICE_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;
export const VALUE_KEY_PATTERN = /^[A-Za-z0-9_.:-]{1,64}$/;
export const TYPE_PATTERN = /^[A-Za-z0-9_.:-]{1,64}$/;
