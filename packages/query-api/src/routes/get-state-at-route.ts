import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { notFound } from '@strata/core';
import type { Deps } from '../deps.ts';
import { parseTime } from '../params/parse-time.ts';
import { isoTime } from '../model/iso-time.ts';
import { valuesOf } from '../reads/merge-value-state.ts';
import { readStateAt } from '../reads/read-state-at.ts';
import { parseReadOptions } from '../params/parse-read-options.ts';
import { routeRead } from '../read-routing/route-read.ts';
import { DeviceParams, StateAtQuery } from './schemas.ts';
import { sendRead } from './send-read.ts';

/**
 * `GET /v1/devices/:device/state?at=`: the device's values as of an instant (default now), each the
 * newest by event time up to `at`. `ts` is the newest event time among them, null when the device
 * had reported nothing by then. Never from the cache: it only holds the latest state.
 */
export function getStateAtRoute(deps: Deps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get('/devices/:device/state', { config: { access: 'read' }, schema: { params: DeviceParams, querystring: StateAtQuery } }, async (request, reply) => {
      const options = parseReadOptions(request.query, request.headers, deps.config.maxStalenessMs);
      const atMs = parseTime(request.query.at, 'at') ?? deps.clock.now();
      const query = { tenantId: request.auth.tenantId, device: request.params.device, atMs };
      const { value, meta } = await routeRead(deps, options, { database: (db, source) => readStateAt(db, source.includeStaged, query) });
      if (!value) throw notFound(`no device "${request.params.device}"`);
      const times = Object.values(value.state).map((entry) => entry.t);
      return sendRead(deps, reply, meta, {
        device: request.params.device,
        at: isoTime(atMs),
        ts: times.length > 0 ? isoTime(Math.max(...times)) : null,
        values: valuesOf(value.state),
      });
    });
  };
}
