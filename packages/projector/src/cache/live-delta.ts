import { encodeLiveDelta, encodeLiveDeltaOfState } from '@strata/core';
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
  if (state.changed.length === 0) return undefined;
  const text = encodeLiveDeltaOfState(state.device, state.state, state.changed, state.updatedAt, state.version);
  // A UTF-16 unit is at most 3 bytes of UTF-8: most deltas need no byte count.
  if (text.length * 3 <= maxBytes || Buffer.byteLength(text) <= maxBytes) return text;
  let newest = Number.NEGATIVE_INFINITY;
  for (const key of state.changed) newest = Math.max(newest, (state.state[key] as { t: number }).t);
  return encodeLiveDelta({
    device: state.device,
    ts: new Date(newest).toISOString(),
    values: {},
    times: {},
    truncated: true,
    changed: state.changed.length,
    updatedAt: state.updatedAt,
    version: state.version,
  });
}

/** The largest live message: a small share of the tenant's stream, so one update never crowds it out. */
export function liveMessageMaxBytes(liveStreamMaxBytes: number): number {
  return Math.max(1024, Math.floor(liveStreamMaxBytes / 64));
}
