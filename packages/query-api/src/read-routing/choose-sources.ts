import type { ReadOptions } from '../model/read-options.ts';
import type { SourceCandidate } from '../model/source-candidate.ts';

/** A replica as the router sees it at the moment of the read. */
export interface ReplicaStatus {
  name: string;
  /** Upper bound on its staleness now, in ms (Infinity when unknown). */
  lagMs: number;
  /** Its last lag probe answered in time. */
  healthy: boolean;
  /** Its circuit breaker; only a closed breaker takes reads (probes run the half-open trial). */
  breaker: 'closed' | 'open' | 'half-open';
  /**
   * Whether it has applied the batch the client's token names, when known: false rules it out;
   * undefined (not checked yet) keeps it, and the reader checks on the replica before reading.
   */
  appliedAfter?: boolean | undefined;
}

export interface AvailableSources {
  /** The cache can answer this read and is up (connected, breaker admitting calls). */
  cache: boolean;
  replicas: ReplicaStatus[];
}

/**
 * The ordered list of sources to try for a read; the caller tries them in order and moves on when
 * one fails or misses. The primary always ends the chain, so a read never fails because an optional
 * source did. Pure, so every routing rule is tested without servers.
 *
 * - strong: the primary only, with staged (not yet projected) events merged in (only it holds them),
 *   or, for a read that cannot merge them, waited for (routeRead: decision 0104).
 * - eventual: replicas that are healthy, have a closed breaker, are within the staleness bound and
 *   have applied `after` (or may have: then verifyAfter is set), least lagged first; then the primary.
 *   A replica is judged by its own state, never by another's.
 * - cache: the cache, then as eventual. The cache holds versions, not batches, so a token cannot be
 *   checked there: with `after`, the cache is skipped.
 * - with `after`, the primary at the end of the chain also merges (or waits for) staged events: the
 *   token's batch may still be staged there.
 */
export function chooseSources(options: ReadOptions, available: AvailableSources): SourceCandidate[] {
  const after = options.afterBatchId;
  const primary: SourceCandidate = { source: { kind: 'primary' }, lagMs: 0, includeStaged: options.consistency === 'strong' || after !== undefined };
  if (options.consistency === 'strong') return [primary];
  const replicas = available.replicas
    .filter((replica) => replica.healthy && replica.breaker === 'closed' && replica.lagMs <= options.maxStalenessMs)
    .filter((replica) => after === undefined || replica.appliedAfter !== false)
    .sort((a, b) => a.lagMs - b.lagMs || a.name.localeCompare(b.name))
    .map((replica): SourceCandidate => {
      const candidate: SourceCandidate = { source: { kind: 'replica', name: replica.name }, lagMs: replica.lagMs, includeStaged: false };
      if (after !== undefined && replica.appliedAfter === undefined) candidate.verifyAfter = after;
      return candidate;
    });
  const eventual = [...replicas, primary];
  if (options.consistency === 'cache' && available.cache && after === undefined) {
    return [{ source: { kind: 'cache' }, lagMs: 0, includeStaged: false }, ...eventual];
  }
  return eventual;
}
