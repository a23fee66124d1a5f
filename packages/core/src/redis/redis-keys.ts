/**
 * Every Redis name Strata uses, in one place: the command and query sides share these names
 * (a contract), not code paths. All carry the deployment prefix.
 */
export const redisKeys = {
  deviceState: (prefix: string, tenantId: string, device: string): string =>
    `${prefix}:state:${tenantId}:${device}`,
  /** Pub/sub channel of a tenant's live updates (schemas/live-message.ts), published by the projector. */
  liveChannel: (prefix: string, tenantId: string): string => `${liveChannelPrefix(prefix)}${tenantId}`,
  /** Every tenant's live channel, for one PSUBSCRIBE; a channel minus liveChannelPrefix is its tenant. */
  liveChannelPattern: (prefix: string): string => `${liveChannelPrefix(prefix)}*`,
  liveChannelPrefix,
  /**
   * The tenant's replayable log of live updates, a Redis stream written in the same script as the
   * PUBLISH on liveChannel; its entry ids are the SSE event ids (Last-Event-ID replay).
   */
  liveStream,
  /**
   * Until when (epoch ms, Redis's clock) a tenant is watched: while it has a live client, and
   * LIVE_RESUME_SECONDS after its last one left (kept by query-api's LiveHub). The projector's script
   * logs and publishes live updates only while it is, so a tenant nobody watches costs no stream
   * writes (decision 0087; redis/live-watch.ts).
   */
  liveWatch: (prefix: string, tenantId: string): string => `${prefix}:livewatch:${tenantId}`,
  /** The running byte count of a tenant's live stream (LIVE_STREAM_MAX_BYTES), kept by the projector. */
  liveStreamBytes: (prefix: string, tenantId: string): string => `${liveStream(prefix, tenantId)}:bytes`,
  /** Key prefix of the per-tenant read rate counters (@fastify/rate-limit appends the tenant). */
  readRateLimit: (prefix: string): string => `${prefix}:ratelimit:read:`,
  /** Pub/sub channel on REDIS_URL: a revoked key's id, so every process drops it from its auth cache. */
  keyRevocations: (prefix: string): string => `${prefix}:auth:revoked`,
  /** Failed authentications of one client address in one minute window (expires with the window). */
  authFailures: (prefix: string, clientAddress: string, minute: number): string =>
    `${prefix}:auth:failures:${minute}:${clientAddress}`,
  /** A tenant's ingest rate (GCRA: the theoretical arrival time of its next event, in microseconds). */
  ingestRate: (prefix: string, tenantId: string): string => `${prefix}:ingest-rate:${tenantId}`,
  /** A tenant's ingest rate in body bytes (GCRA, as ingestRate). */
  ingestByteRate: (prefix: string, tenantId: string): string => `${prefix}:ingest-byte-rate:${tenantId}`,
  /** The distinct value keys a device holds (short digests of their names), for MAX_KEYS_PER_DEVICE. */
  deviceKeys: (prefix: string, tenantId: string, device: string): string =>
    `${prefix}:device-keys:${tenantId}:${device}`,
};

function liveChannelPrefix(prefix: string): string {
  return `${prefix}:live:`;
}

function liveStream(prefix: string, tenantId: string): string {
  return `${prefix}:livelog:${tenantId}`;
}
