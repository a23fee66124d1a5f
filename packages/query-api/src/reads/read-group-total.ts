import { isoTime } from '../model/iso-time.ts';
import type { ReadMeta } from '../model/read-meta.ts';
import type { ReadOptions } from '../model/read-options.ts';
import { selectGroupTotal, type SelectGroupTotalQuery } from '../queries/select-group-total.ts';
import { ProjectionBarrier } from '../read-routing/projection-barrier.ts';
import type { ReadRouter } from '../read-routing/read-router.ts';
import { routeRead } from '../read-routing/route-read.ts';

export interface GroupTotalRead {
  /** null when the exact total is beyond a double (decision 0100). */
  total: number | null;
  at: string;
  /** `exactAt`: the instant the total is exact up to and including, when that is earlier than `at`. */
  meta: ReadMeta & { exactAt?: string };
}

/** The running sum of a value over a group up to and including `at`, on the first source that answers. */
export async function readGroupTotal(router: ReadRouter, query: SelectGroupTotalQuery, options: ReadOptions): Promise<GroupTotalRead> {
  const { value: row, meta } = await routeRead(router, options, {
    database: (db) => selectGroupTotal(db, query),
    // Members are any of the tenant's devices: a strong read waits for all its batches (decision 0104).
    projected: new ProjectionBarrier(query.tenantId),
    // Planned for its values it took ~2.5 ms a read against 0.3 ms of execution (decision 0105).
    genericPlan: true,
  });
  return {
    total: Number.isFinite(row.total) ? row.total : null,
    at: query.at,
    meta: row.exact_at_ms === null ? meta : { ...meta, exactAt: isoTime(row.exact_at_ms) },
  };
}
