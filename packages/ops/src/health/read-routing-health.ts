import { REPLICAS_PATH, type CheckResult, type ReplicasResponse } from '@strata/core';

/**
 * Replica and breaker state as the query API sees it (its `GET /replicas`): only query-api probes
 * the replicas and holds the breakers, so ops asks it rather than guessing. Unhealthy when a
 * replica's breaker is open or its probes fail (reads then all land on the primary), or when the
 * query API cannot be asked.
 */
export async function readRoutingHealth(queryApiUrl: string, timeoutMs: number): Promise<CheckResult> {
  const url = `${queryApiUrl}${REPLICAS_PATH}`;
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (!response.ok) return { ok: false, error: `query-api answered ${response.status} at ${url}` };
  const view = (await response.json()) as ReplicasResponse;
  const down = view.replicas.filter((replica) => !replica.healthy).map((replica) => `${replica.name} (breaker ${replica.breaker})`);
  return {
    ok: down.length === 0,
    replicas: view.replicas.map(({ name, healthy, lagMs, breaker }) => ({ name, healthy, lagMs, breaker })),
    cacheBreaker: view.cache.breaker,
    ...(down.length ? { error: `replicas not serving reads: ${down.join(', ')}` } : {}),
  };
}
