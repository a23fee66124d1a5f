import type { EventValue } from './event.ts';

/*
 * Live updates, the contract between the projector (writer) and query-api (reader, SSE `data`).
 *
 * Each projection that changed a device's values makes one delta, JSON text with its fields in
 * this order (encodeLiveDelta writes it; nothing else should):
 *   {"device", "ts" (newest of the changed values' times), "values": {key: value},
 *    "times": {key: ISO time}, "updatedAt", "version"}
 * or, when that passes the message bound, a notice to re-read the device's state:
 *   {"device", "ts", "values": {}, "times": {}, "truncated": true, "changed": <count>, "updatedAt", "version"}
 * A client merges values newest-`times`-wins, so updates of one device applied in any order agree.
 *
 * The projector's script (projector/src/cache/write-through-states.ts, in Lua) appends the delta to
 * the tenant's stream (redisKeys.liveStream) as field LIVE_ENTRY_FIELD, and publishes on
 * redisKeys.liveChannel the same text with the entry id spliced in as the first field:
 *   {"id": "<stream entry id>", "device", ...}
 * The splice is textual, never a re-encoding (Lua's cjson would round numbers to 14 digits), and
 * liveMessageFromEntry is the same splice for replayed entries; a projector test holds the script to it.
 */

/** The stream entry's one field, holding the delta's text. */
export const LIVE_ENTRY_FIELD = 'u';

/** Entries kept per tenant stream: minutes of updates at a high rate, enough to bridge a reconnect. */
export const LIVE_STREAM_MAXLEN = 10_000;

export interface LiveDelta {
  device: string;
  ts: string;
  values: Record<string, EventValue>;
  times: Record<string, string>;
  updatedAt: string;
  version: number;
  /** Set (with empty maps) when the changed values were too large to send. */
  truncated?: true;
  /** How many values changed, on a truncated delta. */
  changed?: number;
}

/** A delta as published and sent to SSE clients: with its stream entry id. */
export interface LiveMessage extends LiveDelta {
  id: string;
}

/** The delta's JSON text, fields in the contract's order. */
export function encodeLiveDelta(delta: LiveDelta): string {
  const { device, ts, values, times, updatedAt, version } = delta;
  if (delta.truncated) return JSON.stringify({ device, ts, values, times, truncated: true, changed: delta.changed, updatedAt, version });
  return JSON.stringify({ device, ts, values, times, updatedAt, version });
}

/**
 * The same text as encodeLiveDelta for the values `keys` of a value state (each value with its event
 * time in epoch ms, as device_state.state holds it), written without building the two maps: the
 * projector writes one per changed device and drain. `ts` is the newest of their times. A test holds
 * the two alike (schemas/encoders.test.ts). `keys` must be own keys of `state`, and not empty.
 */
export function encodeLiveDeltaOfState(
  device: string,
  state: Readonly<Record<string, { v: unknown; t: number }>>,
  keys: readonly string[],
  updatedAt: string,
  version: number,
): string {
  let values = '';
  let times = '';
  let newest = Number.NEGATIVE_INFINITY;
  // The values of one event share its time: format each time once.
  let lastT = Number.NaN;
  let lastIso = '';
  for (const key of keys) {
    const entry = state[key] as { v: unknown; t: number };
    if (entry.t !== lastT) {
      lastT = entry.t;
      lastIso = new Date(entry.t).toISOString();
    }
    if (entry.t > newest) newest = entry.t;
    const name = JSON.stringify(key);
    const comma = values === '' ? '' : ',';
    values += `${comma}${name}:${JSON.stringify(entry.v)}`;
    times += `${comma}${name}:"${lastIso}"`;
  }
  const ts = newest === lastT ? lastIso : new Date(newest).toISOString();
  return `{"device":${JSON.stringify(device)},"ts":"${ts}","values":{${values}},"times":{${times}},"updatedAt":${JSON.stringify(updatedAt)},"version":${JSON.stringify(version)}}`;
}

/** The message text of a stored entry: its id spliced in first, exactly as the projector publishes it. */
export function liveMessageFromEntry(id: string, entryText: string): string {
  return `{"id":"${id}",${entryText.slice(1)}`;
}

/**
 * The id and device of a live message (what a reader routes by), or undefined when the text is not
 * one. The rest is not checked: readers pass the text on as published, never re-encoded.
 */
export function decodeLiveMessage(text: string): Pick<LiveMessage, 'id' | 'device'> | undefined {
  try {
    const parsed = JSON.parse(text) as { id?: unknown; device?: unknown };
    if (typeof parsed.id !== 'string' || typeof parsed.device !== 'string') return undefined;
    return { id: parsed.id, device: parsed.device };
  } catch {
    return undefined;
  }
}
