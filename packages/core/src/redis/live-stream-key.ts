/**
 * The tenant's replayable log of live updates: a Redis stream, capped (XADD MAXLEN ~), written by the
 * projector in the same script as the PUBLISH on redisKeys.liveChannel. Its entry ids are the SSE
 * event ids, so a client that reconnects with Last-Event-ID is replayed what it missed.
 */
export const liveStreamKey = (prefix: string, tenantId: string): string => `${prefix}:livelog:${tenantId}`;

/** Entries kept per tenant stream: minutes of updates at a high rate, enough to bridge a reconnect. */
export const LIVE_STREAM_MAXLEN = 10_000;
