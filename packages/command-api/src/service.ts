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
  let closing = false;
  const app = await buildApp(deps, { isClosing: () => closing });
  // In the background: readiness never waits for Redis.
  void deps.authenticator.start();
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    closing = true;
    stopped ??= (async () => {
      // Fastify's close waits for the requests in hand, so each one's batch is written and answered.
      await app.close();
      await deps.authenticator.stop();
    })();
    return stopped;
  };
  try {
    await app.listen({ host: deps.config.host, port: deps.config.commandApiPort });
  } catch (error) {
    // The caller gets no handle to stop what was started, so it is stopped here.
    await stop();
    throw error;
  }
  return { app, stop, isClosing: () => closing };
}
