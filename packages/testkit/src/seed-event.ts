import { eventKey, type BatchEvent, type EventValues } from '@strata/core';

/** An event to seed or stage: what a device sent, with its tenant. */
export interface SeedEvent {
  tenantId: string;
  device: string;
  /** Epoch ms. */
  ts: number;
  /** The stored key (`i:<id>`); by default the content digest command-api gives an event without an id. */
  key?: string;
  /** `reading` by default. */
  type?: string;
  values: EventValues;
}

/** The event as command-api hands it on (staging row and job payload). */
export function toBatchEvent(event: SeedEvent): BatchEvent {
  const type = event.type ?? 'reading';
  return { tenantId: event.tenantId, device: event.device, ts: event.ts, type, key: event.key ?? eventKey(undefined, type, event.values), values: event.values };
}
