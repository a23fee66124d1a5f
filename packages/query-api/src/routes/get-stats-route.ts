import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { badRequest, TYPE_PATTERN } from '@strata/core';
import type { Deps } from '../deps.ts';
import { INTERVALS, parseInterval } from '../params/parse-series-params.ts';
import { parseBucketRange } from '../params/parse-bucket-range.ts';
import { selectEventCounts } from '../queries/select-event-counts.ts';
import { createBucketTimeFormatter } from '../reads/bucket-time-formatter.ts';
import { isoTime } from '../model/iso-time.ts';
import { parseReadOptions } from '../params/parse-read-options.ts';
import { routeRead } from '../read-routing/route-read.ts';
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
      const formatTime = createBucketTimeFormatter();
      const buckets: { ts: string; counts: Record<string, number> }[] = [];
      let counts: Record<string, number> = {};
      let lastMs = Number.NaN;
      for (const row of rows) {
        if (row.ms !== lastMs) {
          lastMs = row.ms;
          counts = {};
          buckets.push({ ts: formatTime(row.ms), counts });
        }
        setCount(counts, row.type, row.count);
      }
      return sendRead(deps, reply, meta, { interval, ...(q.type === undefined ? {} : { type: q.type }), buckets });
    });
  };
}

/**
 * Event types are any names. A plain object keeps its fast shape (objects without a prototype are
 * dictionaries: building and serializing 1,440 of them took a quarter of a millisecond more), and the
 * one name that assignment would not store as an own property, `__proto__`, is defined instead.
 */
function setCount(counts: Record<string, number>, type: string, count: number): void {
  if (type === '__proto__') Object.defineProperty(counts, type, { value: count, enumerable: true, writable: true, configurable: true });
  else counts[type] = count;
}
