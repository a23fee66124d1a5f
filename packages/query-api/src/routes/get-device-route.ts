import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { notFound, type Config, type Redis } from '@strata/core';
import { parseReadOptions } from '../params/parse-read-options.ts';
import { readLatestState } from '../reads/read-latest-state.ts';
import type { ReadRouteDeps } from './read-route-deps.ts';
import { LatestStateResponses } from './read-responses.ts';
import { DeviceParams, ReadOptionsQuery, ReadOptionHeaders } from './schemas.ts';
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
    {
      config: { access: 'read' },
      schema: {
        tags: ['devices'],
        summary: "A device's latest state",
        description: 'Each value is the newest by event `ts`, whatever order events arrived in. `consistency=cache` reads Redis first.',
        params: DeviceParams,
        querystring: ReadOptionsQuery,
        headers: ReadOptionHeaders,
        response: LatestStateResponses,
      },
    },
    async (request, reply) => {
      const options = parseReadOptions(request.query, request.headers, deps.config.maxStalenessMs);
      const cache = { redis: deps.cache, prefix: deps.config.redisPrefix };
      const { state, meta } = await readLatestState(deps.router, cache, { tenantId: request.auth.tenantId, device: request.params.device }, options);
      if (!state) throw notFound(`no device "${request.params.device}"`);
      return sendRead(deps.metrics, reply, meta, state);
    },
  );
}
