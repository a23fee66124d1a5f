import type { EventValues } from '@strata/core';
import { isoTime } from '../model/iso-time.ts';
import type { ReadMeta } from '../model/read-meta.ts';
import type { ReadOptions } from '../model/read-options.ts';
import type { ReadRouter } from '../read-routing/read-router.ts';
import { routeRead } from '../read-routing/route-read.ts';
import { findStateAt } from './find-state-at.ts';
import { valuesOf } from './merge-value-state.ts';

/** A device's values as of an instant; `ts` is the newest event time among them (null: none yet). */
export interface StateAt {
  at: string;
  ts: string | null;
  values: EventValues;
}

/** The state as of `atMs` from the first source that answers; never from the cache (it holds only the latest). */
export async function readStateAt(
  router: ReadRouter,
  query: { tenantId: string; device: string; atMs: number },
  options: ReadOptions,
): Promise<{ state: StateAt | undefined; meta: ReadMeta }> {
  const { value, meta } = await routeRead(router, options, { database: (db, source) => findStateAt(db, source.includeStaged, query) });
  if (!value) return { state: undefined, meta };
  const times = Object.values(value).map((entry) => entry.t);
  return {
    state: { at: isoTime(query.atMs), ts: times.length > 0 ? isoTime(Math.max(...times)) : null, values: valuesOf(value) },
    meta,
  };
}
