import { readCachedState } from '../cache/read-cached-state.ts';
import type { Deps } from '../deps.ts';
import { selectDeviceState } from '../queries/select-device-state.ts';
import { selectStateWithStaged, type StateWithStaged } from '../queries/select-state-with-staged.ts';
import type { ReadMeta } from '../model/read-meta.ts';
import type { ReadOptions } from '../model/read-options.ts';
import { routeRead } from '../read-routing/route-read.ts';
import { isoTime } from '../model/iso-time.ts';
import type { LatestState } from '../model/latest-state.ts';
import { emptyValueState } from '../model/value-state.ts';
import { mergeValueState, valueStateOf, valuesOf } from './merge-value-state.ts';

/** A hung cache must cost a read little more than a miss. */
const CACHE_TIMEOUT_MS = 250;

export interface LatestStateRead {
  state: LatestState | undefined;
  meta: ReadMeta;
}

/** Latest state of one device from the first source in the routing chain that answers. */
export async function readLatestState(deps: Deps, tenantId: string, device: string, options: ReadOptions): Promise<LatestStateRead> {
  const { value, meta } = await routeRead<LatestState | undefined>(deps, options, {
    database: async (db, source) =>
      source.includeStaged ? mergeStagedRows(device, await selectStateWithStaged(db, tenantId, device)) : selectDeviceState(db, tenantId, device),
    cache: async () => {
      const lookup = await readCachedState(deps.cache, { prefix: deps.config.redisPrefix, tenantId, device }, CACHE_TIMEOUT_MS);
      deps.metrics.cacheLookups.inc({ result: lookup.result });
      if (lookup.result === 'error') throw lookup.error;
      return lookup.result === 'hit' ? lookup.state : undefined;
    },
  });
  return { state: value, meta };
}

/** device_state with the still-staged events folded in by the same per-value rule as the projector. */
export function mergeStagedRows(device: string, rows: StateWithStaged): LatestState | undefined {
  if (rows.state === undefined && rows.staged.length === 0) return undefined;
  let state = rows.state?.state ?? emptyValueState();
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
