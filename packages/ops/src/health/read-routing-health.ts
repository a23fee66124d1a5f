import type { CheckResult } from '@strata/core';

interface ReplicaView {
  name: string;
  healthy: boolean;
  lagMs: number | null;
  breaker: string;
}

interface RoutingView {
  replicas: ReplicaView[];
  cache: { connected: boolean; breaker: string };
}

/**
 * Replica and breaker state as the query API sees it (its `GET /replicas`): only query-api probes
 * the replicas and holds the breakers, so ops asks it rather than guessing. Unhealthy when a
 * replica's breaker is open or its probes fail (reads then all land on the primary), or when the
 * query API cannot be asked.
 */
export async function readRoutingHealth(queryApiUrl: string, timeoutMs: number): Promise<CheckResult> {
  const response = await fetch(`${queryApiUrl}/replicas`, { signal: AbortSignal.timeout(timeoutMs) });
  if (!response.ok) return { ok: false, error: `query-api answered ${response.status} at ${queryApiUrl}/replicas` };
  const view = (await response.json()) as RoutingView;
  const down = view.replicas.filter((replica) => !replica.healthy).map((replica) => `${replica.name} (breaker ${replica.breaker})`);
  return {
    ok: down.length === 0,
    replicas: view.replicas.map(({ name, healthy, lagMs, breaker }) => ({ name, healthy, lagMs, breaker })),
    cacheBreaker: view.cache.breaker,
    ...(down.length ? { error: `replicas not serving reads: ${down.join(', ')}` } : {}),
  };
}
