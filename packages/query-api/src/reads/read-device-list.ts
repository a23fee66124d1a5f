import type { EventValues, Labels } from '@strata/core';
import { isoTime } from '../model/iso-time.ts';
import type { ReadMeta } from '../model/read-meta.ts';
import type { ReadOptions } from '../model/read-options.ts';
import { encodeCursor } from '../params/cursor.ts';
import { LIST_PAGE_MAX_BYTES } from '../params/list-page-max-bytes.ts';
import { listDeviceStates, type ListDeviceStatesQuery } from '../queries/list-device-states.ts';
import { ProjectionBarrier } from '../read-routing/projection-barrier.ts';
import type { ReadRouter } from '../read-routing/read-router.ts';
import { routeRead } from '../read-routing/route-read.ts';

export interface DeviceListItem {
  device: string;
  ts: string;
  values: EventValues;
  updatedAt: string;
  /** The device's labels now (current versions, as `?label=` filters by). */
  labels: Labels;
}

export interface DeviceListPage {
  items: DeviceListItem[];
  nextCursor: string | null;
  meta: ReadMeta;
}

/**
 * One page of latest states from the projection (the cache holds single devices, so `cache` reads
 * as `eventual`; a strong read first waits for the tenant's acknowledged batches to be projected:
 * decision 0104). `ordering` is what the next cursor is bound to, the one the request's cursor was
 * decoded with; `labelFilter` (`?label=name:value`) keeps
 * the devices holding that label value now. The cursor need not bind the filter: a keyset position
 * is valid under any filter.
 */
export async function readDeviceList(
  router: ReadRouter,
  query: Omit<ListDeviceStatesQuery, 'maxBytes'> & { ordering: string },
  options: ReadOptions,
): Promise<DeviceListPage> {
  const { ordering, ...list } = query;
  const { value: rows, meta } = await routeRead(router, options, {
    database: (db) => listDeviceStates(db, { ...list, limit: list.limit + 1, maxBytes: LIST_PAGE_MAX_BYTES }),
    projected: new ProjectionBarrier(list.tenantId),
  });
  const fitting = rows.findIndex((row) => row.values === null);
  const page = rows.slice(0, Math.min(list.limit, fitting < 0 ? rows.length : fitting));
  const last = page.at(-1);
  const nextCursor =
    rows.length > page.length && last ? encodeCursor(ordering, list.sort.kind === 'device' ? [last.device] : [last.sort_key, last.device]) : null;
  const items = page.map((row) => ({
    device: row.device,
    ts: isoTime(row.ts),
    values: row.values ?? {},
    updatedAt: isoTime(row.updated_at),
    labels: row.labels ?? {},
  }));
  return { items, nextCursor, meta };
}
