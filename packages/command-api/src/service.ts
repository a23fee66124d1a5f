import { ServiceStopper } from '@strata/core';
import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.ts';
import type { CommandDeps } from './deps.ts';

export interface RunningCommandApi {
  /** The listening app (tests inject into it; with COMMAND_API_PORT 0 its address has the port). */
  app: FastifyInstance;
  /** Stops intake (503 from then on, requests in hand answered), then the revocation subscription; deps stay open. */
  stop(): Promise<void>;
  isClosing(): boolean;
}

/** Builds the app, starts the key revocation subscription and listens on config.host:commandApiPort. */
export async function startCommandApi(deps: CommandDeps): Promise<RunningCommandApi> {
  const stopper = new ServiceStopper(async () => {
    // Fastify's close waits for the requests in hand, so each one's batch is written and answered.
    await app.close();
    await deps.authenticator.stop();
  });
  const app = await buildApp(deps, { isClosing: stopper.isClosing });
  // In the background: readiness never waits for Redis.
  void deps.authenticator.start();
  await stopper.guardStart(async () => {
    await app.listen({ host: deps.config.host, port: deps.config.commandApiPort });
  });
  return { app, stop: stopper.stop, isClosing: stopper.isClosing };
}
