import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { AcceptEventsDeps } from '../ingest/accept-events.ts';
import { lineProtocolWriteHandler } from '../transports/line-protocol/line-protocol-write-handler.ts';
import { V2_PRECISIONS } from '../transports/line-protocol/read-precision.ts';
import { InfluxV2Error, LineProtocolBody, Written, deviceTagParam, documentOnly, influxErrorResponses } from './write-schemas.ts';

const schema = {
  tags: ['line protocol'],
  summary: 'Write line protocol (InfluxDB 2)',
  description:
    'Measurement → `type`; the device tag → device; other tags → labels; fields → values; timestamp → `ts` (arrival time if absent). ' +
    'The key as `Authorization: Token <key>` or `Bearer <key>`, the Basic auth password, or `p=`. Errors in InfluxDB 2\'s shape.',
  querystring: Type.Object({
    bucket: Type.Optional(Type.String({ description: 'accepted and unused: the key names the tenant' })),
    org: Type.Optional(Type.String({ description: 'accepted and unused' })),
    precision: Type.Optional(Type.String({ enum: [...V2_PRECISIONS.keys()], description: 'unit of the timestamps (default ns)' })),
    deviceTag: deviceTagParam,
  }),
  body: LineProtocolBody,
  response: { 204: Written, ...influxErrorResponses(InfluxV2Error, 400, 401, 403, 413, 415, 429, 500, 503) },
};

/**
 * InfluxDB 2's write endpoint: `POST /api/v2/write?bucket=&org=&precision=ns|us|ms|s`. The key (as
 * `Token`, `Bearer`, Basic password or `p=`) names the tenant; bucket and org are accepted and unused.
 * Registered in the line-protocol scope (prepareLineProtocolScope).
 */
export function registerPostApiV2WriteRoute(app: FastifyInstance, deps: AcceptEventsDeps): void {
  app.post(
    '/api/v2/write',
    { config: { access: 'write', keyFrom: 'influx' }, schema, validatorCompiler: documentOnly },
    lineProtocolWriteHandler(deps, V2_PRECISIONS),
  );
}
