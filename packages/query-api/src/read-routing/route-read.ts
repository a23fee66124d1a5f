import type { Queryable } from '@strata/core';
import { isBrokenCircuitError } from 'cockatiel';
import type { ReadMeta } from '../model/read-meta.ts';
import type { ReadOptions } from '../model/read-options.ts';
import { sourceLabel } from '../model/read-source.ts';
import type { SourceCandidate } from '../model/source-candidate.ts';
import { selectBatchApplied } from '../queries/select-batch-applied.ts';
import { chooseSources } from './choose-sources.ts';
import { databaseErrorToAppError, isClientError } from './data-exception.ts';
import { passProjectionBarrier, type ProjectionBarrier } from './projection-barrier.ts';
import type { ReadRouter } from './read-router.ts';
import type { ReplicaNode } from './replica-node.ts';

/** How one read is done on each kind of source. */
export interface ReadPlan<T> {
  /** The read on a database; the chosen source says whether staged events must be merged in. */
  database(db: Queryable, source: SourceCandidate): Promise<T>;
  /** The read from the cache: undefined on a miss, throws on a cache failure. Absent: no cache for this read. */
  cache?: () => Promise<T | undefined>;
  /**
   * For a read that does not merge staged rows itself: what a strong or token read on the primary
   * must see projected first (decision 0104). Absent: the read merges staged rows (latest state).
   */
  projected?: ProjectionBarrier;
  /**
   * The statement is written to be planned without its values (every bound index-usable, no estimate
   * that decides the plan): run it on the source's generic-plan pool, planned once per connection
   * instead of at every read (decision 0105).
   */
  genericPlan?: boolean;
}

export interface RoutedRead<T> {
  value: T;
  meta: ReadMeta;
}

type Attempt<T> = { ok: true; value: T } | { ok: false; reason: 'token' | 'error' | 'breaker' };

/**
 * Runs a read on the first source of the routing chain that answers. Replica and cache failures are
 * absorbed (counted, logged at most every few seconds, fed to their breakers); the primary ends every
 * chain and its errors are the only ones a client sees. A data exception (SQLSTATE class 22) from any
 * database is the client's: it is answered as a 400 at once and never counted against a source.
 * A statement timeout (57014) is a 503 `timeout`; on a replica it is not counted either (Breaker)
 * and the read moves on down the chain, whose primary has the longer statement_timeout.
 */
export async function routeRead<T>(router: ReadRouter, options: ReadOptions, plan: ReadPlan<T>): Promise<RoutedRead<T>> {
  const chain = chooseSources(options, {
    cache: plan.cache !== undefined && router.cache.connected() && router.cache.breaker.admits(),
    replicas: router.replicas.statuses(router.clock.now()),
  });
  for (const candidate of chain) {
    const meta: ReadMeta = { source: sourceLabel(candidate.source), consistency: options.consistency, lagMs: Math.round(candidate.lagMs) };
    const { source } = candidate;
    if (source.kind === 'primary') return { value: await readPrimary(router, options, candidate, plan).catch(asClientError), meta };
    if (source.kind === 'cache' && plan.cache) {
      const value = await readFromCache(router, plan.cache);
      if (value !== undefined) return { value, meta };
      continue;
    }
    const node = source.kind === 'replica' ? router.replicas.node(source.name) : undefined;
    if (!node) continue;
    const attempt = await readOnReplica(router, node, candidate, plan);
    if (attempt.ok) return { value: attempt.value, meta };
    router.metrics.replicaSkips.inc({ replica: node.name, reason: attempt.reason });
  }
  throw new Error('routing chain ended without the primary');
}

/**
 * The read on the primary. A strong read, or one with a token, must reflect events acknowledged but
 * maybe still staged: a read that cannot merge them waits until they are projected (decision 0104).
 */
async function readPrimary<T>(router: ReadRouter, options: ReadOptions, candidate: SourceCandidate, plan: ReadPlan<T>): Promise<T> {
  if (candidate.includeStaged && plan.projected) await passProjectionBarrier(router, plan.projected, options);
  return plan.database(plan.genericPlan ? router.primaryGeneric : router.primary, candidate);
}

/** The cached value, or undefined on a miss or any failure (then the chain moves on). */
async function readFromCache<T>(router: ReadRouter, read: () => Promise<T | undefined>): Promise<T | undefined> {
  try {
    const value = await router.cache.breaker.execute(read);
    router.metrics.cacheLookups.inc({ result: value === undefined ? 'miss' : 'hit' });
    return value;
  } catch (error) {
    // A call the open breaker refused never reached the cache: it was no lookup.
    if (!isBrokenCircuitError(error)) router.metrics.cacheLookups.inc({ result: 'error' });
    router.sourceErrors.note('cache', error);
    return undefined;
  }
}

async function readOnReplica<T>(router: ReadRouter, node: ReplicaNode, candidate: SourceCandidate, plan: ReadPlan<T>): Promise<Attempt<T>> {
  try {
    return await node.breaker.execute(async (): Promise<Attempt<T>> => {
      // Replay only moves forward, so the read that follows sees at least what the check saw.
      if (candidate.verifyAfter !== undefined && !(await selectBatchApplied(node.pool, candidate.verifyAfter))) {
        return { ok: false, reason: 'token' };
      }
      return { ok: true, value: await plan.database(plan.genericPlan ? node.genericPool : node.pool, candidate) };
    });
  } catch (error) {
    // The primary would refuse the same values: answer the client now, and blame no replica.
    if (isClientError(error)) asClientError(error);
    const open = isBrokenCircuitError(error);
    if (!open) router.sourceErrors.note(`replica:${node.name}`, error);
    return { ok: false, reason: open ? 'breaker' : 'error' };
  }
}

/** Rethrows a data exception as the client's 400, a statement timeout as 503; any other error as it is. */
function asClientError(error: unknown): never {
  throw databaseErrorToAppError(error);
}
