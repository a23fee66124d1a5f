import { readCachedState, type StateCache } from '../cache/read-cached-state.ts';
import type { LatestState } from '../model/latest-state.ts';
import type { ReadMeta } from '../model/read-meta.ts';
import type { ReadOptions } from '../model/read-options.ts';
import { selectDeviceState } from '../queries/select-device-state.ts';
import { selectStateWithStaged } from '../queries/select-state-with-staged.ts';
import type { ReadRouter } from '../read-routing/read-router.ts';
import { routeRead } from '../read-routing/route-read.ts';
import { mergeStagedLabels } from './merge-staged-labels.ts';
import { mergeStagedRows } from './merge-staged-rows.ts';

export interface LatestStateRead {
  state: LatestState | undefined;
  meta: ReadMeta;
}

/**
 * Latest state of one device, with its labels, from the first source in the routing chain that
 * answers. Staged events' values and labels are merged on a source that includes them (strong, token).
 */
export async function readLatestState(
  router: ReadRouter,
  cache: StateCache,
  query: { tenantId: string; device: string },
  options: ReadOptions,
): Promise<LatestStateRead> {
  const { tenantId, device } = query;
  const { value, meta } = await routeRead<LatestState | undefined>(router, options, {
    database: async (db, source) => {
      if (!source.includeStaged) return selectDeviceState(db, tenantId, device);
      const rows = await selectStateWithStaged(db, tenantId, device);
      const state = mergeStagedRows(device, rows);
      return state && { ...state, labels: mergeStagedLabels(rows) };
    },
    cache: () => readCachedState(cache, query),
  });
  return { state: value, meta };
}
