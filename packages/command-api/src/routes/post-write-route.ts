import type { FastifyInstance } from 'fastify';
import type { AcceptEventsDeps } from '../ingest/accept-events.ts';
import { lineProtocolWriteHandler } from '../transports/line-protocol/line-protocol-write-handler.ts';
import { V1_PRECISIONS } from '../transports/line-protocol/read-precision.ts';

/**
 * InfluxDB 1.x's write endpoint: `POST /write?db=&precision=n|u|ms|s` (also ns, us, m, h as 1.x
 * takes them). The key names the tenant; db, rp and consistency are accepted and unused.
 * Registered in the line-protocol scope (prepareLineProtocolScope).
 */
export function registerPostWriteRoute(app: FastifyInstance, deps: AcceptEventsDeps): void {
  app.post('/write', { config: { access: 'write', keyFrom: 'influx' } }, lineProtocolWriteHandler(deps, V1_PRECISIONS));
}
