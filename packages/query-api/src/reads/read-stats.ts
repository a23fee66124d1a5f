import { setOwnKey } from '@strata/core';
import type { ReadMeta } from '../model/read-meta.ts';
import type { ReadOptions } from '../model/read-options.ts';
import { selectEventCounts, selectEventCountsTag, type EventCountRow, type SelectEventCountsQuery } from '../queries/select-event-counts.ts';
import { ProjectionBarrier } from '../read-routing/projection-barrier.ts';
import type { ReadRouter } from '../read-routing/read-router.ts';
import { routeRead } from '../read-routing/route-read.ts';
import { createBucketTimeFormatter } from './bucket-time-formatter.ts';
import { readKeeping, type KeptAnswers } from './kept-answers.ts';

export interface StatsBucket {
  ts: string;
  counts: Record<string, number>;
}

/**
 * The tenant's event counts per bucket and type, from the projection's counters on the first source
 * that answers, as the JSON text of the buckets. Kept and reused while the range's notes and counter
 * rows are unchanged (decision 0103; selectEventCounts' tag).
 */
export async function readStats(router: ReadRouter, kept: KeptAnswers | undefined, query: SelectEventCountsQuery, options: ReadOptions): Promise<{ bucketsJson: string; meta: ReadMeta }> {
  // One barrier for the probe and the read: a strong read waits once (decision 0104).
  const projected = new ProjectionBarrier(query.tenantId);
  const { json, meta } = await readKeeping(kept, router.clock.now(), {
    kind: 'stats',
    tenantId: query.tenantId,
    // Any text but U+0000 may be a type name: the prefix keeps 'every type' apart from each of them.
    keyParts: [query.interval, query.from, query.to, query.type === undefined ? 'every type' : `type ${query.type}`],
    from: query.from,
    probe: () => routeRead(router, options, { database: (db) => selectEventCountsTag(db, query), projected }),
    read: async (keep) => {
      const { value, meta } = await routeRead(router, options, { database: (db) => selectEventCounts(db, query, keep), projected });
      return { json: JSON.stringify(statsBuckets(value.rows)), tag: value.tag, meta };
    },
  });
  return { bucketsJson: json, meta };
}

/** Rows (ordered by bucket, then type) as buckets: `[{ts, counts: {type: n}}]`. */
function statsBuckets(rows: readonly EventCountRow[]): StatsBucket[] {
  const formatTime = createBucketTimeFormatter();
  const buckets: StatsBucket[] = [];
  let counts: Record<string, number> = {};
  let lastMs = Number.NaN;
  for (const row of rows) {
    if (row.ms !== lastMs) {
      lastMs = row.ms;
      counts = {};
      buckets.push({ ts: formatTime(row.ms), counts });
    }
    // Event types are any names, `__proto__` too (plain objects keep their fast shape: setOwnKey).
    setOwnKey(counts, row.type, row.count);
  }
  return buckets;
}

