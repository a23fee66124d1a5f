/**
 * A tenant's live stream (redisKeys.liveStream) is capped by entries (this) and by bytes
 * (LIVE_STREAM_MAX_BYTES; the projector keeps a running count at redisKeys.liveStreamBytes).
 * An entry (field `u`) is the JSON of one update without its id: only the values that projection
 * changed — {"device","ts","values","times","updatedAt","version"}, or with "truncated": true and
 * empty maps when it was too large (see projector/src/cache/live-delta.ts).
 */

/** Entries kept per tenant stream: minutes of updates at a high rate, enough to bridge a reconnect. */
export const LIVE_STREAM_MAXLEN = 10_000;
