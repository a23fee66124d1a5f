import { loadConfigOrExit, runService } from '@strata/core';
import { closeCommandDeps, createCommandDeps } from './deps.ts';
import { startCommandApi } from './service.ts';

const config = loadConfigOrExit(process.env);
const deps = createCommandDeps(config);
runService(deps.logger, () => startCommandApi(deps), () => closeCommandDeps(deps));
