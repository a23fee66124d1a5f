import type { ReadMeta } from '../model/read-meta.ts';
import type { ReadOptions } from '../model/read-options.ts';
import { encodeCursor } from '../params/cursor.ts';
import { selectGroupValues, type GroupValueRow, type SelectGroupValuesQuery } from '../queries/select-group-values.ts';
import type { ReadRouter } from '../read-routing/read-router.ts';
import { routeRead } from '../read-routing/route-read.ts';

/** The ordering a values cursor belongs to (a cursor of another endpoint is refused). */
export const GROUP_VALUES_ORDERING = 'group-values';

/**
 * One page of a label's values and how many devices hold each now, from the first source that
 * answers. No cache holds groups, so `cache` reads as `eventual`; staged events do not change them for
 * `strong` either: event labels reach versions when their minute is refreshed (decision 0074),
 * PUT/PATCH at once. One row past the page tells whether another follows.
 */
export async function readGroupValues(
  router: ReadRouter,
  query: SelectGroupValuesQuery,
  options: ReadOptions,
): Promise<{ values: GroupValueRow[]; nextCursor: string | null; meta: ReadMeta }> {
  const { value: rows, meta } = await routeRead(router, options, {
    database: (db) => selectGroupValues(db, { ...query, limit: query.limit + 1 }),
  });
  const values = rows.slice(0, query.limit);
  const last = values.at(-1);
  const nextCursor = rows.length > values.length && last ? encodeCursor(GROUP_VALUES_ORDERING, [last.value]) : null;
  return { values, nextCursor, meta };
}
