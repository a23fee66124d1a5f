import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { notFound } from '@strata/core';
import { parseReadOptions } from '../params/parse-read-options.ts';
import { parseTime } from '../params/parse-time.ts';
import { readStateAt } from '../reads/read-state-at.ts';
import type { ReadRouteDeps } from './read-route-deps.ts';
import { StateAtResponses } from './read-responses.ts';
import { DeviceParams, ReadOptionHeaders, StateAtQuery } from './schemas.ts';
import { sendRead } from './send-read.ts';

/**
 * `GET /v1/devices/:device/state?at=`: the device's values as of an instant (default now), each the
 * newest by event time up to `at`. `ts` is the newest event time among them, null when the device
 * had reported nothing by then. Never from the cache: it only holds the latest state.
 */
export function registerGetStateAtRoute(app: FastifyInstance, deps: ReadRouteDeps): void {
  app.withTypeProvider<TypeBoxTypeProvider>().get(
    '/devices/:device/state',
    {
      config: { access: 'read' },
      schema: {
        tags: ['devices'],
        summary: "A device's state as of a past instant",
        description: 'Never from the cache, which holds only the latest state (`consistency=cache` reads as `eventual`).',
        params: DeviceParams,
        querystring: StateAtQuery,
        headers: ReadOptionHeaders,
        response: StateAtResponses,
      },
    },
    async (request, reply) => {
      const options = parseReadOptions(request.query, request.headers, deps.config.maxStalenessMs);
      const atMs = parseTime(request.query.at, 'at') ?? deps.clock.now();
      const { state, meta } = await readStateAt(deps.router, { tenantId: request.auth.tenantId, device: request.params.device, atMs }, options);
      if (!state) throw notFound(`no device "${request.params.device}"`);
      return sendRead(deps.metrics, reply, meta, { device: request.params.device, ...state });
    },
  );
}
