import { REPLICAS_PATH, type ReplicasResponse } from '@strata/core';

/** Read routing and breakers as query-api sees them, or why ops could not ask. */
export type RoutingView =
  | ({ reachable: true; url: string; configuredReplicas: number } & ReplicasResponse)
  | { reachable: false; url: string; configuredReplicas: number; error: string };

/**
 * Asks query-api's `GET /replicas`: only query-api probes the replicas and holds the breakers (replica
 * and cache), so ops reports its view and says so when it cannot be reached, rather than guess. With
 * several query-api instances this is the one at QUERY_API_PORT on ops' own host.
 */
export async function readRoutingView(queryApiUrl: string, configuredReplicas: number, timeoutMs: number): Promise<RoutingView> {
  const url = `${queryApiUrl}${REPLICAS_PATH}`;
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    if (!response.ok) return { reachable: false, url, configuredReplicas, error: `query-api answered ${response.status}` };
    const view = (await response.json()) as ReplicasResponse;
    return {
      reachable: true,
      url,
      configuredReplicas,
      replicas: view.replicas.map(({ name, healthy, lagMs, breaker, inRecovery, probedAt, replayLsn, error }) => ({
        name,
        healthy,
        lagMs,
        breaker,
        inRecovery,
        probedAt,
        replayLsn,
        ...(error === undefined ? {} : { error }),
      })),
      cache: { connected: view.cache.connected, breaker: view.cache.breaker },
      maxStalenessMs: view.maxStalenessMs,
    };
  } catch (error) {
    const reason = error instanceof Error && error.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : 'not reachable';
    return { reachable: false, url, configuredReplicas, error: `query-api ${reason}` };
  }
}
