import { AppError, badRequest, type FieldError } from '@strata/core';
import { MAX_BODY_NESTING, NESTING_SCAN_MIN_BYTES, exceedsNesting } from '../../ingest/exceeds-nesting.ts';
import { isNdjsonBody, readEventList } from '../../ingest/read-event-list.ts';

/** Refuses ill-formed UTF-8 instead of turning it into U+FFFD: a payload is stored as sent or not at all. */
const UTF8 = new TextDecoder('utf-8', { fatal: true });

export interface TelemetryPayloadOptions {
  /** The device of the topic: every event is this device's. */
  device: string;
  /** When the message arrived: the time of events that carry none. */
  arrivalMs: number;
  /** The MQTT 5 content type said `application/x-ndjson`. */
  ndjson: boolean;
  /** MAX_BODY_BYTES, as for an HTTP body. */
  maxBytes: number;
}

/**
 * The raw events of a PUBLISH payload, ready for acceptEvents: any HTTP body form (one event,
 * `{"events": [...]}`, an array, NDJSON), ThingsBoard's `{"ts": <ms>, "values": {...}}` or an array
 * of those, or a flat object of values. The topic names the device, so events leave `device` out (an
 * event naming another device is reported); events without `ts` (or `timestamp`) take the arrival
 * time, as ThingsBoard does. Throws an AppError (400, 413) for a payload that is no event list at all.
 */
export function readTelemetryPayload(payload: Buffer, options: TelemetryPayloadOptions): { events: unknown[]; errors: FieldError[] } {
  if (payload.length > options.maxBytes) {
    throw new AppError(413, 'payload_too_large', `payload is larger than ${options.maxBytes} bytes (MAX_BODY_BYTES)`);
  }
  let text: string;
  try {
    text = UTF8.decode(payload);
  } catch {
    throw badRequest('payload is invalid', [{ field: 'payload', reason: 'is not well-formed UTF-8' }]);
  }
  // Deep nesting costs JSON.parse seconds; balanced NDJSON lines never nest deeper than their own.
  if (text.length > NESTING_SCAN_MIN_BYTES && exceedsNesting(text, MAX_BODY_NESTING, options.ndjson)) {
    throw badRequest('payload is invalid', [{ field: 'payload', reason: `nested deeper than ${MAX_BODY_NESTING} levels` }]);
  }
  const list = options.ndjson ? readEventList({ ndjson: text }) : readJsonOrNdjson(text);
  const errors = [...list.errors];
  for (const [index, event] of list.events.entries()) {
    if (typeof event !== 'object' || event === null || Array.isArray(event)) continue; // validation says why
    const fields = event as Record<string, unknown>;
    if (!Object.hasOwn(fields, 'device')) fields.device = options.device;
    else if (fields.device !== options.device) {
      errors.push({ index, field: 'device', reason: `must be the topic's device "${options.device}" or left out` });
    }
    if (fields.ts == null && fields.timestamp == null) fields.ts = options.arrivalMs;
  }
  return { events: list.events, errors };
}

/** One JSON document, else NDJSON when there are several lines; the same event list either way. */
function readJsonOrNdjson(text: string): { events: unknown[]; errors: FieldError[] } {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    if (text.includes('\n')) return readEventList({ ndjson: text });
    throw badRequest('payload is invalid', [{ field: 'payload', reason: 'must be JSON (an event, {"events": [...]}, an array, a flat object of values) or NDJSON' }]);
  }
  // A flat object may have a value named `ndjson`: it is one event, not NDJSON text.
  return readEventList(isNdjsonBody(body) ? [body] : body);
}
