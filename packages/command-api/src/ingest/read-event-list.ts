import { EVENT_LIMITS, badRequest, type FieldError } from '@strata/core';

/** NDJSON bodies reach the route as text, wrapped so they cannot be mistaken for a JSON string body. */
export interface NdjsonBody {
  ndjson: string;
}

export function isNdjsonBody(body: unknown): body is NdjsonBody {
  return typeof body === 'object' && body !== null && typeof (body as NdjsonBody).ndjson === 'string';
}

/**
 * The raw events of a request, in order, from any accepted body form: one event object,
 * `{"events": [...]}`, a JSON array, or NDJSON (one event per line; blank lines ignored).
 * Unparseable NDJSON lines are reported by index like any other invalid event.
 */
export function readEventList(body: unknown): { events: unknown[]; errors: FieldError[] } {
  if (isNdjsonBody(body)) return readNdjson(body.ndjson);
  let events: unknown[];
  if (Array.isArray(body)) events = body;
  else if (typeof body === 'object' && body !== null && 'events' in body) {
    const list = (body as { events: unknown }).events;
    if (!Array.isArray(list)) throw badRequest('body is invalid', [{ field: 'events', reason: 'must be an array of events' }]);
    events = list;
  } else if (typeof body === 'object' && body !== null) events = [body];
  else throw badRequest('body is invalid', [{ field: 'body', reason: 'must be an event object, {"events": [...]}, or NDJSON' }]);
  checkCount(events.length);
  return { events, errors: [] };
}

function readNdjson(text: string): { events: unknown[]; errors: FieldError[] } {
  const events: unknown[] = [];
  const errors: FieldError[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const index = events.length;
    try {
      events.push(JSON.parse(line));
    } catch {
      events.push(undefined);
      errors.push({ index, field: 'event', reason: 'line is not valid JSON' });
    }
    if (events.length > EVENT_LIMITS.maxEventsPerRequest) break;
  }
  checkCount(events.length);
  return { events, errors };
}

function checkCount(count: number): void {
  if (count === 0) throw badRequest('body is invalid', [{ field: 'events', reason: 'must contain at least one event' }]);
  if (count > EVENT_LIMITS.maxEventsPerRequest) {
    throw badRequest('body is invalid', [
      { field: 'events', reason: `at most ${EVENT_LIMITS.maxEventsPerRequest} events per request` },
    ]);
  }
}
