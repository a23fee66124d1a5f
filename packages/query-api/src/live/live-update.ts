import { decodeLiveMessage, liveMessageFromEntry } from '@strata/core';

/** One live update as it goes to SSE clients: the stream entry id, the device, and the JSON text sent as `data`. */
export interface LiveUpdate {
  id: string;
  device: string;
  data: string;
}

/** Orders Redis stream ids (`<ms>-<seq>`); both parts may exceed 2^53, hence BigInt. */
export function compareStreamIds(a: string, b: string): number {
  const [aMs = '0', aSeq = '0'] = a.split('-');
  const [bMs = '0', bSeq = '0'] = b.split('-');
  const byMs = BigInt(aMs) - BigInt(bMs);
  if (byMs !== 0n) return byMs > 0n ? 1 : -1;
  const bySeq = BigInt(aSeq) - BigInt(bSeq);
  return bySeq === 0n ? 0 : bySeq > 0n ? 1 : -1;
}

export const STREAM_ID_PATTERN = /^\d{1,20}-\d{1,20}$/;

/** A live update from the stream's stored text (the projector's JSON without the id): same `data` as a published one. */
export function updateFromEntry(id: string, stored: string): LiveUpdate | undefined {
  return updateFromMessage(liveMessageFromEntry(id, stored));
}

/** A published message (`{"id", "device", ...}`), or undefined when it is not one. */
export function updateFromMessage(text: string): LiveUpdate | undefined {
  const message = decodeLiveMessage(text);
  return message && { id: message.id, device: message.device, data: text };
}
