import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { badRequest, TYPE_PATTERN } from '@strata/core';
import type { Deps } from '../deps.ts';
import { INTERVALS, parseInterval } from '../params/parse-series-params.ts';
import { parseBucketRange } from '../params/parse-bucket-range.ts';
import { selectEventCounts } from '../queries/select-event-counts.ts';
import { isoTime } from '../reads/latest-state.ts';
import { parseReadOptions } from '../routing/parse-read-options.ts';
import { routeRead } from '../routing/route-read.ts';
import { StatsQuery } from './schemas.ts';
import { sendRead } from './send-read.ts';

/**
 * `GET /v1/stats`: the tenant's event counts per bucket and event type, from the counters the
 * projection keeps (never a scan of history). Like series, the range widens to whole buckets and
 * buckets without events are left out.
 */
export function getStatsRoute(deps: Deps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get('/stats', { config: { access: 'read' }, schema: { querystring: StatsQuery } }, async (request, reply) => {
      const q = request.query;
      const options = parseReadOptions(q, request.headers, deps.config.maxStalenessMs);
      if (q.type !== undefined && !TYPE_PATTERN.test(q.type)) {
        throw badRequest('invalid type', [{ field: 'type', reason: 'must be an event type: 1-128 characters of well-formed Unicode without U+0000' }]);
      }
      const interval = parseInterval(q.interval ?? '1h');
      const { start, end } = parseBucketRange(q, interval, deps.clock.now());
      const query = { tenantId: request.auth.tenantId, interval: INTERVALS[interval].sql, from: isoTime(start), to: isoTime(end), type: q.type };
      const { value: rows, meta } = await routeRead(deps, options, { database: (db) => selectEventCounts(db, query) });
      const buckets: { ts: string; counts: Record<string, number> }[] = [];
      for (const row of rows) {
        const ts = isoTime(row.bucket);
        // Event types are any names (`__proto__` included), so the map has no prototype to collide with.
        if (buckets.at(-1)?.ts !== ts) buckets.push({ ts, counts: Object.create(null) as Record<string, number> });
        (buckets.at(-1) as { counts: Record<string, number> }).counts[row.type] = Number(row.count);
      }
      return sendRead(deps, reply, meta, { interval, ...(q.type === undefined ? {} : { type: q.type }), buckets });
    });
  };
}
