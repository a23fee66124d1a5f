/**
 * Every Redis name Strata uses, in one place: the command and query sides share these names
 * (a contract), not code paths. All carry the deployment prefix.
 */
export const redisKeys = {
  deviceState: (prefix: string, tenantId: string, device: string): string =>
    `${prefix}:state:${tenantId}:${device}`,
  liveChannel: (prefix: string, tenantId: string): string => `${prefix}:live:${tenantId}`,
  rateLimit: (prefix: string): string => `${prefix}:ratelimit:`,
};
