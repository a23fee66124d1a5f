import { readCachedState } from '../cache/read-cached-state.ts';
import type { Deps } from '../deps.ts';
import { selectDeviceState } from '../queries/select-device-state.ts';
import { selectStateWithStaged, type StateWithStaged } from '../queries/select-state-with-staged.ts';
import { chooseSources } from '../routing/choose-sources.ts';
import { sourceLabel, type ReadMeta, type ReadOptions } from '../routing/consistency.ts';
import { isoTime, type LatestState } from './latest-state.ts';
import { mergeValueState, valueStateOf, valuesOf } from './merge-value-state.ts';

/** A hung cache must cost a read little more than a miss. */
const CACHE_TIMEOUT_MS = 250;

export interface LatestStateRead {
  state: LatestState | undefined;
  meta: ReadMeta;
}

/**
 * Latest state of one device from the first source in the routing chain that answers. The cache is
 * optional: any failure there is counted and the read moves on; the primary ends every chain.
 */
export async function readLatestState(deps: Deps, tenantId: string, device: string, options: ReadOptions): Promise<LatestStateRead> {
  const chain = chooseSources(options, { cache: deps.cache.status === 'ready', replicas: [] });
  for (const { source, lagMs } of chain) {
    const meta: ReadMeta = { source: sourceLabel(source), consistency: options.consistency, lagMs };
    if (source.kind === 'cache') {
      const key = { prefix: deps.config.redisPrefix, tenantId, device };
      const lookup = await readCachedState(deps.cache, key, CACHE_TIMEOUT_MS);
      deps.metrics.cacheLookups.inc({ result: lookup.result });
      if (lookup.result === 'hit') return { state: lookup.state, meta };
      if (lookup.result === 'error') deps.logger.warn({ err: lookup.error, device }, 'cache read failed, reading PostgreSQL');
      continue;
    }
    if (source.kind === 'replica') continue; // Replica pools arrive with replica support; the chain then skips none.
    // On the primary, a token may name a batch that is still staged; merging staging honours it
    // for the price of the strong read, without first asking whether the batch was applied.
    const mergeStaged = options.consistency === 'strong' || options.afterBatchId !== undefined;
    const state = mergeStaged
      ? mergeStagedRows(device, await selectStateWithStaged(deps.pool, tenantId, device))
      : await selectDeviceState(deps.pool, tenantId, device);
    return { state, meta };
  }
  throw new Error('routing chain ended without the primary');
}

/** device_state with the still-staged events folded in by the same per-value rule as the projector. */
export function mergeStagedRows(device: string, rows: StateWithStaged): LatestState | undefined {
  if (rows.state === undefined && rows.staged.length === 0) return undefined;
  let state = rows.state?.state ?? {};
  let tsMs = rows.state ? Date.parse(rows.state.ts) : Number.NEGATIVE_INFINITY;
  let updatedMs = rows.state ? Date.parse(rows.state.updatedAt) : Number.NEGATIVE_INFINITY;
  for (const staged of rows.staged) {
    const eventMs = Date.parse(staged.ts);
    state = mergeValueState(state, valueStateOf(staged.values, eventMs));
    tsMs = Math.max(tsMs, eventMs);
    updatedMs = Math.max(updatedMs, Date.parse(staged.receivedAt));
  }
  return { device, ts: isoTime(tsMs), values: valuesOf(state), updatedAt: isoTime(updatedMs) };
}
