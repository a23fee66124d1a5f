import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { notFound, type Config, type Redis } from '@strata/core';
import { parseReadOptions } from '../params/parse-read-options.ts';
import { readLatestState } from '../reads/read-latest-state.ts';
import type { ReadRouteDeps } from './read-route-deps.ts';
import { DeviceParams, ReadOptionsQuery } from './schemas.ts';
import { sendRead } from './send-read.ts';

export interface GetDeviceRouteDeps extends ReadRouteDeps {
  /** The cache Redis the projector writes latest states through. */
  cache: Redis;
  config: Pick<Config, 'maxStalenessMs' | 'redisPrefix'>;
}

/** `GET /v1/devices/:device`: latest state, from the source the consistency level allows. */
export function registerGetDeviceRoute(app: FastifyInstance, deps: GetDeviceRouteDeps): void {
  app.withTypeProvider<TypeBoxTypeProvider>().get(
    '/devices/:device',
    { config: { access: 'read' }, schema: { params: DeviceParams, querystring: ReadOptionsQuery } },
    async (request, reply) => {
      const options = parseReadOptions(request.query, request.headers, deps.config.maxStalenessMs);
      const cache = { redis: deps.cache, prefix: deps.config.redisPrefix };
      const { state, meta } = await readLatestState(deps.router, cache, { tenantId: request.auth.tenantId, device: request.params.device }, options);
      if (!state) throw notFound(`no device "${request.params.device}"`);
      return sendRead(deps.metrics, reply, meta, state);
    },
  );
}
