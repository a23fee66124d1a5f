import type { FastifyInstance } from 'fastify';
import type { AcceptEventsDeps } from '../ingest/accept-events.ts';
import { lineProtocolWriteHandler } from '../transports/line-protocol/line-protocol-write-handler.ts';
import { V2_PRECISIONS } from '../transports/line-protocol/read-precision.ts';

/**
 * InfluxDB 2's write endpoint: `POST /api/v2/write?bucket=&org=&precision=ns|us|ms|s`. The key (as
 * `Token`, `Bearer`, Basic password or `p=`) names the tenant; bucket and org are accepted and unused.
 * Registered in the line-protocol scope (prepareLineProtocolScope).
 */
export function registerPostApiV2WriteRoute(app: FastifyInstance, deps: AcceptEventsDeps): void {
  app.post('/api/v2/write', { config: { access: 'write', keyFrom: 'influx' } }, lineProtocolWriteHandler(deps, V2_PRECISIONS));
}
