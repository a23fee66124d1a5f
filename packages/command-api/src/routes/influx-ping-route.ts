import type { FastifyInstance } from 'fastify';
import { INFLUX_VERSION } from '../transports/line-protocol/prepare-line-protocol-scope.ts';

/**
 * `GET`/`HEAD /ping`, as InfluxDB answers it: 204 with its version headers, or 200 with the version
 * for `?verbose=true`. Public, as in InfluxDB: 1.x clients (the influx CLI) ping before anything else.
 */
export function registerInfluxPingRoute(app: FastifyInstance): void {
  app.get('/ping', { config: { access: 'public' } }, async (request, reply) => {
    const { verbose } = request.query as Record<string, unknown>;
    if (verbose === 'true') return reply.code(200).send({ version: INFLUX_VERSION });
    return reply.code(204).send();
  });
}
