import type { ReadMeta } from '../model/read-meta.ts';
import type { ReadOptions } from '../model/read-options.ts';
import { selectGroupValues, type GroupValueRow } from '../queries/select-group-values.ts';
import type { ReadRouter } from '../read-routing/read-router.ts';
import { routeRead } from '../read-routing/route-read.ts';

/**
 * A label's values and how many devices hold each now, from the first source that answers. No cache
 * holds groups, so `cache` reads as `eventual`; staged events do not change them for `strong` either:
 * event labels reach versions when their minute is refreshed (decision 0074), PUT/PATCH at once.
 */
export async function readGroupValues(
  router: ReadRouter,
  query: { tenantId: string; label: string },
  options: ReadOptions,
): Promise<{ values: GroupValueRow[]; meta: ReadMeta }> {
  const { value, meta } = await routeRead(router, options, { database: (db) => selectGroupValues(db, query.tenantId, query.label) });
  return { values: value, meta };
}
