/**
 * `GET /replicas` on query-api: that instance's read-routing view. Only query-api probes the
 * replicas and holds the breakers, so ops (`ops health`, `ops replica --status`) asks it here rather
 * than guessing; both sides build on these types. Beside /metrics, not under /v1: for operators, and
 * it carries no tenant data.
 */
export const REPLICAS_PATH = '/replicas';

export interface ReplicasResponse {
  replicas: ReplicaView[];
  /** The cache Redis: its connection, and the breaker reads of it go through. */
  cache: { connected: boolean; breaker: BreakerState };
  /** The default staleness bound for replica reads (MAX_STALENESS_MS). */
  maxStalenessMs: number;
}

/** One configured replica. */
export interface ReplicaView {
  name: string;
  /** Its last probe succeeded and its breaker is closed: it may serve reads. */
  healthy: boolean;
  /** Upper bound on its staleness now, ms; null until a probe could bound it. */
  lagMs: number | null;
  breaker: BreakerState;
  replayLsn: string | null;
  inRecovery: boolean;
  /** When the last probe round began (ISO 8601); null before the first. */
  probedAt: string | null;
  /** Why the last probe failed. */
  error?: string;
}

export type BreakerState = 'closed' | 'open' | 'half-open';
