import { encodeLiveDelta, type EventValue } from '@strata/core';
import type { ProjectedState } from '../queries/project-batch.ts';

/**
 * The live update of one projection, as JSON text (core's schemas/live-message.ts): only the values
 * it changed, each with its event time, never the device's whole state (a device with thousands of
 * values would turn every small write into a large message per SSE client and per stream entry).
 * An update larger than `maxBytes` (a single event may carry up to MAX_KEYS_PER_DEVICE values of up
 * to 64 KiB each) is sent truncated: the client reads the device's state instead.
 * Undefined when nothing changed (every incoming value was older than the stored one).
 */
export function liveDelta(state: ProjectedState, maxBytes: number): string | undefined {
  // Null-prototype maps: a value named `__proto__` is a plain key here as everywhere else.
  const values: Record<string, EventValue> = Object.create(null);
  const times: Record<string, string> = Object.create(null);
  let newest = Number.NEGATIVE_INFINITY;
  let count = 0;
  // The values of one event share its time: format each time once (a hot spot of the projector).
  let lastT = Number.NaN;
  let lastIso = '';
  for (const [key, entry] of Object.entries(state.changed)) {
    // Projected from validated events, so every value is one an event may carry.
    values[key] = entry.v as EventValue;
    if (entry.t !== lastT) {
      lastT = entry.t;
      lastIso = new Date(entry.t).toISOString();
    }
    times[key] = lastIso;
    newest = Math.max(newest, entry.t);
    count++;
  }
  if (count === 0) return undefined;
  const ts = new Date(newest).toISOString();
  const delta = { device: state.device, ts, values, times, updatedAt: state.updatedAt, version: state.version };
  const text = encodeLiveDelta(delta);
  if (Buffer.byteLength(text) <= maxBytes) return text;
  return encodeLiveDelta({ ...delta, values: {}, times: {}, truncated: true, changed: count });
}

/** The largest live message: a small share of the tenant's stream, so one update never crowds it out. */
export function liveMessageMaxBytes(liveStreamMaxBytes: number): number {
  return Math.max(1024, Math.floor(liveStreamMaxBytes / 64));
}
