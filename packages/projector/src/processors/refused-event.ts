import { createHash } from 'node:crypto';
import type { BatchEvent } from '@strata/core';
import type { DeadLetterRow } from '../queries/record-dead-letters.ts';

/** One event PostgreSQL refused on its own, with why (SQLSTATE and message). */
export interface RefusedEvent {
  event: BatchEvent;
  sqlstate: string;
  reason: string;
}

/** Long enough for PostgreSQL's message and detail, short enough that a listing stays readable. */
const MAX_REASON = 500;

export function refusedEvent(event: BatchEvent, error: unknown): RefusedEvent {
  const e = (typeof error === 'object' && error !== null ? error : {}) as { code?: unknown; message?: unknown; detail?: unknown };
  const message = typeof e.message === 'string' ? e.message : String(error);
  const detail = typeof e.detail === 'string' && e.detail !== '' ? `: ${e.detail}` : '';
  return { event, sqlstate: typeof e.code === 'string' ? e.code : 'XX000', reason: `${message}${detail}`.slice(0, MAX_REASON) };
}

/**
 * The dead-letter rows of refused events, one per distinct event. The event is kept as JSON text:
 * JSON.stringify escapes U+0000 and lone surrogates, so the text is storable whatever the event
 * holds, and JSON.parse gives back the very same event. Its digest identifies it across retries.
 */
export function deadLetterRows(refused: RefusedEvent[]): DeadLetterRow[] {
  const rows = new Map<string, DeadLetterRow>();
  for (const { event, sqlstate, reason } of refused) {
    const text = JSON.stringify(event);
    const digest = createHash('sha256').update(text).digest('hex');
    rows.set(digest, { digest, tenantId: event.tenantId, device: event.device, ms: event.ts, event: text, sqlstate, reason });
  }
  return [...rows.values()];
}
