import type { EventValues } from './event.ts';

/**
 * The latest-state cache entry, a contract between the projector (which writes it through after
 * each drain) and query-api (which serves `consistency=cache` from it): one Redis HASH per device
 * (redisKeys.deviceState) with two fields. The version field lets the projector's script refuse an
 * older state than the one cached, whatever order drains finish in.
 */
export const CACHED_STATE_FIELDS = {
  /** device_state.version of the cached state. */
  version: 'v',
  /** The state as JSON (encodeCachedState). */
  body: 'b',
} as const;

export interface CachedState {
  device: string;
  /** Newest event time, ISO 8601. */
  ts: string;
  values: EventValues;
  /** When the projection last changed the state, ISO 8601. */
  updatedAt: string;
}

/** Any state with those fields (the projector's carries more; only these are cached). */
export function encodeCachedState(state: Omit<CachedState, 'values'> & { values: Record<string, unknown> }): string {
  return JSON.stringify({ device: state.device, ts: state.ts, values: state.values, updatedAt: state.updatedAt });
}

/**
 * The same text as encodeCachedState, written from a value state (each value with its event time, as
 * device_state.state holds it) without building the values map first: the projector writes a few
 * thousand entries per drain. Keys in the state's own order, every own key a key (`__proto__`
 * included). A test holds the two alike (schemas/encoders.test.ts).
 */
export function encodeCachedValueState(device: string, ts: string, state: Readonly<Record<string, { v: unknown }>>, updatedAt: string): string {
  let values = '';
  for (const key of Object.keys(state)) {
    values += `${values === '' ? '' : ','}${JSON.stringify(key)}:${JSON.stringify((state[key] as { v: unknown }).v)}`;
  }
  return `{"device":${JSON.stringify(device)},"ts":${JSON.stringify(ts)},"values":{${values}},"updatedAt":${JSON.stringify(updatedAt)}}`;
}

/**
 * The cached state of `device`, or undefined when the body is not one: a garbled entry, or one for
 * another device (the key names the device, so that would be a bug, and it is not served).
 */
export function decodeCachedState(body: string, device: string): CachedState | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const entry = parsed as Record<string, unknown>;
  if (entry.device !== device || typeof entry.ts !== 'string' || typeof entry.updatedAt !== 'string') return undefined;
  if (typeof entry.values !== 'object' || entry.values === null || Array.isArray(entry.values)) return undefined;
  return { device, ts: entry.ts, values: entry.values as EventValues, updatedAt: entry.updatedAt };
}
