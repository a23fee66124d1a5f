import { installShutdown, loadConfigOrExit } from '@strata/core';
import { buildApp } from './app.ts';
import { closeDeps, createDeps } from './deps.ts';

// Composition root: the only place that reads the environment, listens and handles signals.
const config = loadConfigOrExit(process.env);
const deps = createDeps(config);
const app = await buildApp(deps);
installShutdown(deps.logger, async () => {
  await app.close();
  await closeDeps(deps);
});
await app.listen({ host: config.host, port: config.queryApiPort });
