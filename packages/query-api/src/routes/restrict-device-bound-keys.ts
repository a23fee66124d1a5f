import type { FastifyRequest } from 'fastify';
import { forbidden, isDeviceBound, requireDevice } from '@strata/core';

/** The route that checks its `?device=` itself (a bound key must name its device there). */
const DEVICE_IN_QUERY_ROUTE = '/v1/stream';

/**
 * A key bound to one device reads that device and nothing else: routes with a `:device` parameter
 * must name its device, and tenant-wide reads (the device list, stats, later groups) are refused.
 * One preHandler for the whole /v1 scope, decided by the matched route, so a route added later is
 * closed to bound keys until it says otherwise.
 */
export async function restrictDeviceBoundKeys(request: FastifyRequest): Promise<void> {
  const auth = request.auth;
  if (!isDeviceBound(auth)) return;
  const device = (request.params as { device?: unknown } | undefined)?.device;
  if (typeof device === 'string') return requireDevice(auth, device);
  if (request.routeOptions.url === DEVICE_IN_QUERY_ROUTE) return;
  throw forbidden('this key is bound to one device and may not read tenant-wide data');
}
