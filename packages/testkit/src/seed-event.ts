import { eventKey, type BatchEvent, type EventValues, type Labels } from '@strata/core';

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
  /** The labels the event carries, if any. */
  labels?: Labels;
}

/** The event as command-api hands it on (staging row and job payload). */
export function toBatchEvent(event: SeedEvent): BatchEvent {
  const type = event.type ?? 'reading';
  const batchEvent: BatchEvent = { tenantId: event.tenantId, device: event.device, ts: event.ts, type, key: event.key ?? eventKey(undefined, type, event.values, event.labels), values: event.values };
  if (event.labels !== undefined) batchEvent.labels = event.labels;
  return batchEvent;
}
