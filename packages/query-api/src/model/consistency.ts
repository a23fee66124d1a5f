/** How fresh a read must be; chosen per request by the client. */
export const CONSISTENCY_LEVELS = ['strong', 'eventual', 'cache'] as const;
export type Consistency = (typeof CONSISTENCY_LEVELS)[number];
