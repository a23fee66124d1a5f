import type { ReadOptions, ReadSource } from './consistency.ts';

/** A replica as the router sees it at the moment of the read. */
export interface ReplicaStatus {
  name: string;
  /** Replication lag in milliseconds, as last measured. */
  lagMs: number;
  /** False while its circuit breaker is open (recent failures or timeouts). */
  healthy: boolean;
  /** Whether it has applied the batch the client's token names; undefined when no token was given. */
  appliedAfter?: boolean | undefined;
}

export interface AvailableSources {
  /** False while the cache Redis is disconnected or its breaker is open. */
  cache: boolean;
  replicas: ReplicaStatus[];
}

/** One source in the fallback chain, with the lag to report if it answers. */
export interface SourceCandidate {
  source: ReadSource;
  lagMs: number;
}

/**
 * The ordered list of sources to try for a read; the caller tries them in order and moves on when
 * one fails or misses. The primary always ends the chain, so a read never fails because an optional
 * source did. Pure, so the routing rules are tested without servers.
 *
 * - strong: the primary only (only it sees staged, not yet projected, events).
 * - eventual: replicas within the staleness bound that are healthy and have applied `after`,
 *   least lagged first, then the primary. A replica is judged by its own state, never another's.
 * - cache: the cache, then as eventual. A token cannot be checked against the cache (it holds
 *   versions, not batches), so `after` skips it.
 */
export function chooseSources(options: ReadOptions, available: AvailableSources): SourceCandidate[] {
  const primary: SourceCandidate = { source: { kind: 'primary' }, lagMs: 0 };
  if (options.consistency === 'strong') return [primary];
  const replicas = available.replicas
    .filter((replica) => replica.healthy && replica.lagMs <= options.maxStalenessMs)
    .filter((replica) => options.afterBatchId === undefined || replica.appliedAfter === true)
    .sort((a, b) => a.lagMs - b.lagMs || a.name.localeCompare(b.name))
    .map((replica): SourceCandidate => ({ source: { kind: 'replica', name: replica.name }, lagMs: replica.lagMs }));
  const eventual = [...replicas, primary];
  if (options.consistency === 'cache' && available.cache && options.afterBatchId === undefined) {
    return [{ source: { kind: 'cache' }, lagMs: 0 }, ...eventual];
  }
  return eventual;
}
