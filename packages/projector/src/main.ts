import { installShutdown, loadConfigOrExit } from '@strata/core';
import { closeProjectorDeps, createProjectorDeps } from './deps.ts';
import { startProjector } from './service.ts';

const config = loadConfigOrExit(process.env);
const deps = createProjectorDeps(config);
const service = await startProjector(deps);
installShutdown(deps.logger, async () => {
  await service.stop();
  await closeProjectorDeps(deps);
});
