import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { INFLUX_VERSION } from '../transports/line-protocol/prepare-line-protocol-scope.ts';
import { InfluxV1Error, documentOnly, influxErrorResponses } from './write-schemas.ts';

const schema = {
  tags: ['line protocol'],
  summary: 'Ping, as InfluxDB answers it (GET or HEAD)',
  description: 'Public, as in InfluxDB: 1.x clients ping before anything else.',
  querystring: Type.Object({ verbose: Type.Optional(Type.String({ description: '`true`: answer 200 with the version' })) }),
  response: {
    200: Type.Object({ version: Type.String() }, { description: 'with `verbose=true`' }),
    204: { type: 'null', description: 'up', headers: { 'x-influxdb-version': { type: 'string' } } },
    ...influxErrorResponses(InfluxV1Error, 500, 503),
  },
};

/**
 * `GET`/`HEAD /ping`, as InfluxDB answers it: 204 with its version headers, or 200 with the version
 * for `?verbose=true`. Public, as in InfluxDB: 1.x clients (the influx CLI) ping before anything else.
 */
export function registerInfluxPingRoute(app: FastifyInstance): void {
  app.get('/ping', { config: { access: 'public' }, schema, validatorCompiler: documentOnly }, async (request, reply) => {
    const { verbose } = request.query as Record<string, unknown>;
    if (verbose === 'true') return reply.code(200).send({ version: INFLUX_VERSION });
    return reply.code(204).send();
  });
}
