import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.ts';
import type { CommandDeps } from './deps.ts';

export interface RunningCommandApi {
  /** The listening app (tests send requests with `app.inject`). */
  app: FastifyInstance;
  /** True from the moment stop() is called: new requests and readiness then get 503. */
  isClosing(): boolean;
  /** Stops intake and waits for the requests in flight; the deps stay open for their owner to close. */
  stop(): Promise<void>;
}

/** Builds the command API, starts its revocation subscription and listens on COMMAND_API_PORT. */
export async function startCommandApi(deps: CommandDeps): Promise<RunningCommandApi> {
  let closing = false;
  const app = await buildApp(deps, { isClosing: () => closing });
  // In the background: readiness never waits for Redis (TenantAuthenticator.start).
  void deps.authenticator.start();
  await app.listen({ host: deps.config.host, port: deps.config.commandApiPort });
  return {
    app,
    isClosing: () => closing,
    async stop() {
      closing = true;
      // Fastify's close waits for the requests in hand, so each one's batch is written and answered.
      await app.close();
      await deps.authenticator.stop();
    },
  };
}
