import type { EventValues } from '@strata/core';
import { isoTime } from '../model/iso-time.ts';
import type { ReadMeta } from '../model/read-meta.ts';
import type { ReadOptions } from '../model/read-options.ts';
import { encodeCursor } from '../params/cursor.ts';
import { LIST_PAGE_MAX_BYTES } from '../params/list-page-max-bytes.ts';
import { selectDeviceEvents, type SelectDeviceEventsQuery } from '../queries/select-device-events.ts';
import { ProjectionBarrier } from '../read-routing/projection-barrier.ts';
import type { ReadRouter } from '../read-routing/read-router.ts';
import { routeRead } from '../read-routing/route-read.ts';

/** What an events cursor is bound to: a cursor from another listing is refused. */
export const EVENTS_ORDERING = 'events:desc';

export interface EventItem {
  ts: string;
  type: string;
  values: EventValues;
  id?: string;
}

export interface EventsPage {
  items: EventItem[];
  nextCursor: string | null;
  meta: ReadMeta;
}

/**
 * One page of a device's history, newest first, keyset-paginated on (ts, event_key). A strong or
 * token read on the primary first waits for the device's acknowledged batches (decision 0104).
 */
export async function readEvents(
  router: ReadRouter,
  query: Omit<SelectDeviceEventsQuery, 'maxBytes'>,
  options: ReadOptions,
): Promise<EventsPage> {
  const { value: rows, meta } = await routeRead(router, options, {
    database: (db) => selectDeviceEvents(db, { ...query, limit: query.limit + 1, maxBytes: LIST_PAGE_MAX_BYTES }),
    projected: new ProjectionBarrier(query.tenantId, query.device),
  });
  const fitting = rows.findIndex((row) => row.values === null);
  const page = rows.slice(0, Math.min(query.limit, fitting < 0 ? rows.length : fitting));
  const last = page.at(-1);
  const nextCursor = rows.length > page.length && last ? encodeCursor(EVENTS_ORDERING, [last.ts, last.event_key]) : null;
  const items = page.map((row) => ({
    ts: isoTime(row.ts),
    type: row.type,
    values: row.values ?? {},
    // A content digest (h:) is our bookkeeping, not the device's; only its own ids are shown.
    ...(row.event_key.startsWith('i:') ? { id: row.event_key.slice(2) } : {}),
  }));
  return { items, nextCursor, meta };
}
