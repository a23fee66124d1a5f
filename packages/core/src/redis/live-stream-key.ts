/**
 * The tenant's replayable log of live updates: a Redis stream, written by the projector in the same
 * script as the PUBLISH on redisKeys.liveChannel, capped by entries (LIVE_STREAM_MAXLEN) and by bytes
 * (LIVE_STREAM_MAX_BYTES; the projector keeps a running count at `<this key>:bytes`). Its entry ids
 * are the SSE event ids, so a client that reconnects with Last-Event-ID is replayed what it missed.
 * An entry (field `u`) is the JSON of one update without its id: only the values that projection
 * changed — {"device","ts","values","times","updatedAt","version"}, or with "truncated": true and
 * empty maps when it was too large (see projector/src/cache/live-delta.ts).
 */
export const liveStreamKey = (prefix: string, tenantId: string): string => `${prefix}:livelog:${tenantId}`;

/** Entries kept per tenant stream: minutes of updates at a high rate, enough to bridge a reconnect. */
export const LIVE_STREAM_MAXLEN = 10_000;
