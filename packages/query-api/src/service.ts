import { ServiceStopper } from '@strata/core';
import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.ts';
import type { QueryDeps } from './deps.ts';
import { buildReplicaMonitorLoop } from './read-routing/build-replica-monitor-loop.ts';

export interface RunningQueryApi {
  /** The listening app (tests inject into it; with QUERY_API_PORT 0 its address has the port). */
  app: FastifyInstance;
  /** Stops intake (readiness 503, open streams ended, in-flight reads finished), then the background work; deps stay open. */
  stop(): Promise<void>;
  isClosing(): boolean;
}

/**
 * Builds the app, starts everything it relies on in the background (revocation subscription, live
 * updates subscription, replica lag monitor) and listens on config.host:queryApiPort.
 */
export async function startQueryApi(deps: QueryDeps): Promise<RunningQueryApi> {
  const stopper = new ServiceStopper(async () => {
    // Reads waiting for the projection are answered (503) first: app.close() waits for every request,
    // and a wait of STRONG_READ_WAIT_MS could outlast the stop's grace (decision 0104).
    deps.projection.close();
    await app.close();
    stopEndingRevoked();
    await deps.authenticator.stop();
    await monitor.stop();
  });
  const app = await buildApp(deps, { isClosing: stopper.isClosing });
  const monitor = buildReplicaMonitorLoop(deps.replicas, { logger: deps.logger });
  // A revoked key's open streams end within the revocation's own delay (pub/sub, under a second).
  const stopEndingRevoked = deps.authenticator.onRevoked((keyId) => deps.live.hub.endKey(keyId, 'key revoked'));
  // Subscriptions start in the background: readiness never waits for Redis.
  void deps.authenticator.start();
  deps.live.hub.start();
  // Replicas, like the cache, are optional: readiness does not wait for them either, but the first
  // probe round is awaited so the first reads can already use the healthy ones.
  await monitor.start();
  await stopper.guardStart(async () => {
    await app.listen({ host: deps.config.host, port: deps.config.queryApiPort });
  });
  return { app, stop: stopper.stop, isClosing: stopper.isClosing };
}
