import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { AcceptEventsDeps } from '../ingest/accept-events.ts';
import { lineProtocolWriteHandler } from '../transports/line-protocol/line-protocol-write-handler.ts';
import { V1_PRECISIONS } from '../transports/line-protocol/read-precision.ts';
import { InfluxV1Error, LineProtocolBody, Written, deviceTagParam, documentOnly, influxErrorResponses } from './write-schemas.ts';

const schema = {
  tags: ['line protocol'],
  summary: 'Write line protocol (InfluxDB 1.x)',
  description:
    'As `/api/v2/write`, with 1.x names (what the `influx` CLI\'s INSERT and Telegraf\'s 1.x output send). Errors in InfluxDB 1.x\'s shape.',
  querystring: Type.Object({
    db: Type.Optional(Type.String({ description: 'accepted and unused: the key names the tenant' })),
    rp: Type.Optional(Type.String({ description: 'accepted and unused' })),
    consistency: Type.Optional(Type.String({ description: 'accepted and unused' })),
    precision: Type.Optional(Type.String({ enum: ['', ...V1_PRECISIONS.keys()], description: 'unit of the timestamps (absent or empty: ns)' })),
    deviceTag: deviceTagParam,
  }),
  body: LineProtocolBody,
  response: { 204: Written, ...influxErrorResponses(InfluxV1Error, 400, 401, 403, 413, 415, 429, 500, 503) },
};

/**
 * InfluxDB 1.x's write endpoint: `POST /write?db=&precision=n|u|ms|s` (also ns, us, m, h as 1.x
 * takes them). The key names the tenant; db, rp and consistency are accepted and unused.
 * Registered in the line-protocol scope (prepareLineProtocolScope).
 */
export function registerPostWriteRoute(app: FastifyInstance, deps: AcceptEventsDeps): void {
  app.post('/write', { config: { access: 'write', keyFrom: 'influx' }, schema, validatorCompiler: documentOnly }, lineProtocolWriteHandler(deps, V1_PRECISIONS));
}
