import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Deps } from '../deps.ts';
import { getDeviceRoute } from './get-device-route.ts';
import { getSeriesRoute } from './get-series-route.ts';
import { listDevicesRoute } from './list-devices-route.ts';
import { listEventsRoute } from './list-events-route.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The tenant the bearer key belongs to; every query filters on it. */
    tenantId: string;
  }
}

/**
 * The tenant-scoped API. Authentication runs on `onRequest`, before the query is even validated,
 * so a caller without a valid key learns nothing about the API beyond the 401.
 */
export function v1Routes(deps: Deps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.decorateRequest('tenantId', '');
    app.addHook('onRequest', async (request) => {
      request.tenantId = await deps.authenticator.authenticate(request.headers.authorization);
    });
    await app.register(getDeviceRoute(deps));
    await app.register(listDevicesRoute(deps));
    await app.register(listEventsRoute(deps));
    await app.register(getSeriesRoute(deps));
  };
}
