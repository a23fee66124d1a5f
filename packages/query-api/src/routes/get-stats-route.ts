import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { isoTime } from '../model/iso-time.ts';
import { checkNameParam } from '../params/check-name-param.ts';
import { parseBucketRange } from '../params/parse-bucket-range.ts';
import { parseReadOptions } from '../params/parse-read-options.ts';
import { INTERVALS, parseInterval } from '../params/parse-series-params.ts';
import { readStats } from '../reads/read-stats.ts';
import type { KeepingReadRouteDeps } from './read-route-deps.ts';
import { StatsResponses } from './read-responses.ts';
import { ReadOptionHeaders, StatsQuery } from './schemas.ts';
import { sendReadJson } from './send-read.ts';

/**
 * `GET /v1/stats`: the tenant's event counts per bucket and event type, from the counters the
 * projection keeps (never a scan of history). Like series, the range widens to whole buckets and
 * buckets without events are left out.
 */
export function registerGetStatsRoute(app: FastifyInstance, deps: KeepingReadRouteDeps): void {
  const schema = {
    tags: ['tenant'],
    summary: "The tenant's event counts per bucket and type",
    description: 'From the counters the projection keeps, never a scan of history. A key bound to one device may not read it (403).',
    querystring: StatsQuery,
    headers: ReadOptionHeaders,
    response: StatsResponses,
  };
  app.withTypeProvider<TypeBoxTypeProvider>().get('/stats', { config: { access: 'read' }, schema }, async (request, reply) => {
    const q = request.query;
    const options = parseReadOptions(q, request.headers, deps.config.maxStalenessMs);
    checkNameParam('type', q.type);
    const interval = parseInterval(q.interval ?? '1h');
    const { start, end } = parseBucketRange(q, interval, deps.clock.now());
    const query = { tenantId: request.auth.tenantId, interval: INTERVALS[interval].sql, from: isoTime(start), to: isoTime(end), type: q.type };
    const { bucketsJson, meta } = await readStats(deps.router, deps.keptAnswers, query, options);
    // The buckets as JSON text (JSON.stringify of the objects the schema describes), so a kept answer
    // is sent as it is (decision 0103); the body in the order the schema serializer wrote it (the
    // optional `type` after `meta`).
    return sendReadJson(deps.metrics, reply, meta, { interval }, { name: 'buckets', json: bucketsJson }, q.type === undefined ? {} : { type: q.type });
  });
}
