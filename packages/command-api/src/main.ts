import { installShutdown, loadConfigOrExit } from '@strata/core';
import { buildApp } from './app.ts';
import { closeDeps, createDeps } from './deps.ts';

const config = loadConfigOrExit(process.env);
const deps = createDeps(config);
const app = await buildApp(deps);
// Stop intake first (Fastify answers 503 to new requests), then acknowledge what was taken in.
installShutdown(deps.logger, async () => {
  await app.close();
  await closeDeps(deps);
});
await app.listen({ host: config.host, port: config.commandApiPort });
