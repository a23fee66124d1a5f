import { installShutdown, loadConfigOrExit } from '@strata/core';
import { closeQueryDeps, createQueryDeps } from './deps.ts';
import { startQueryApi } from './service.ts';

// Composition root: the only place that reads the environment and handles signals.
const config = loadConfigOrExit(process.env);
const deps = createQueryDeps(config);
const service = await startQueryApi(deps);
installShutdown(deps.logger, async () => {
  await service.stop();
  await closeQueryDeps(deps);
});
