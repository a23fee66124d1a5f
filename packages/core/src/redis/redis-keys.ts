/**
 * Every Redis name Strata uses, in one place: the command and query sides share these names
 * (a contract), not code paths. All carry the deployment prefix.
 */
export const redisKeys = {
  deviceState: (prefix: string, tenantId: string, device: string): string =>
    `${prefix}:state:${tenantId}:${device}`,
  liveChannel: (prefix: string, tenantId: string): string => `${prefix}:live:${tenantId}`,
  rateLimit: (prefix: string): string => `${prefix}:ratelimit:`,
  /** Pub/sub channel on REDIS_URL: a revoked key's id, so every process drops it from its auth cache. */
  keyRevocations: (prefix: string): string => `${prefix}:auth:revoked`,
  /** Failed authentications of one client address in one minute window (expires with the window). */
  authFailures: (prefix: string, clientAddress: string, minute: number): string =>
    `${prefix}:auth:failures:${minute}:${clientAddress}`,
  /** A tenant's ingest rate (GCRA: the theoretical arrival time of its next event, in microseconds). */
  ingestRate: (prefix: string, tenantId: string): string => `${prefix}:ingest-rate:${tenantId}`,
  /** The distinct value keys a device holds (short digests of their names), for MAX_KEYS_PER_DEVICE. */
  deviceKeys: (prefix: string, tenantId: string, device: string): string =>
    `${prefix}:device-keys:${tenantId}:${device}`,
};
