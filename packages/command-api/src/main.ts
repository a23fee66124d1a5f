import { installShutdown, loadConfigOrExit } from '@strata/core';
import { closeCommandDeps, createCommandDeps } from './deps.ts';
import { startCommandApi } from './service.ts';

const config = loadConfigOrExit(process.env);
const deps = createCommandDeps(config);
const service = await startCommandApi(deps);
installShutdown(deps.logger, async () => {
  await service.stop();
  await closeCommandDeps(deps);
});
