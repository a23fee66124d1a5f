import { notFound } from '@strata/core';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Deps } from '../deps.ts';
import { readLatestState } from '../reads/read-latest-state.ts';
import { parseReadOptions } from '../params/parse-read-options.ts';
import { DeviceParams, ReadOptionsQuery } from './schemas.ts';
import { sendRead } from './send-read.ts';

/** `GET /v1/devices/:device`: latest state, from the source the consistency level allows. */
export function getDeviceRoute(deps: Deps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get('/devices/:device', { config: { access: 'read' }, schema: { params: DeviceParams, querystring: ReadOptionsQuery } }, async (request, reply) => {
      const options = parseReadOptions(request.query, request.headers, deps.config.maxStalenessMs);
      const { state, meta } = await readLatestState(deps, request.auth.tenantId, request.params.device, options);
      if (!state) throw notFound(`no device "${request.params.device}"`);
      return sendRead(deps, reply, meta, state);
    });
  };
}
