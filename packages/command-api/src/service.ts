import { EVENT_LIMITS, ServiceStopper } from '@strata/core';
import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.ts';
import { HELD_EVENTS_LIMIT, HELD_EVENTS_PER_TENANT, type CommandDeps } from './deps.ts';
import { MqttListener } from './transports/mqtt/mqtt-listener.ts';

export interface RunningCommandApi {
  /** The listening app (tests inject into it; with COMMAND_API_PORT 0 its address has the port). */
  app: FastifyInstance;
  /** The MQTT listener, when MQTT_PORT is not 0. */
  mqtt: MqttListener | undefined;
  /**
   * Stops intake (HTTP answers 503, MQTT takes no connection and reads no message; what is in hand is
   * stored and answered), then the revocation subscription; deps stay open.
   */
  stop(): Promise<void>;
  isClosing(): boolean;
}

/**
 * Builds the app, starts the key revocation subscription, and listens on config.host:commandApiPort
 * and, unless MQTT_PORT is 0, on config.host:mqttPort.
 */
export async function startCommandApi(deps: CommandDeps): Promise<RunningCommandApi> {
  const stopper = new ServiceStopper(async () => {
    // Fastify's close waits for the requests in hand, so each one's batch is written and answered;
    // the MQTT listener likewise stores and acknowledges the messages in hand before closing.
    await Promise.all([app.close(), mqtt?.stop()]);
    await deps.authenticator.stop();
  });
  const app = await buildApp(deps, { isClosing: stopper.isClosing });
  // MQTT sockets stop being read a request's worth of events before the committer refuses with 503,
  // all of them before its whole bound, a tenant's before its share.
  const mqtt = deps.config.mqttPort === 0 ? undefined : new MqttListener(deps, {
    pauseAtHeldEvents: HELD_EVENTS_LIMIT - EVENT_LIMITS.maxEventsPerRequest,
    pauseAtTenantHeldEvents: HELD_EVENTS_PER_TENANT - EVENT_LIMITS.maxEventsPerRequest,
  });
  // In the background: readiness never waits for Redis.
  void deps.authenticator.start();
  await stopper.guardStart(async () => {
    await app.listen({ host: deps.config.host, port: deps.config.commandApiPort });
    await mqtt?.start();
  });
  return { app, mqtt, stop: stopper.stop, isClosing: stopper.isClosing };
}
