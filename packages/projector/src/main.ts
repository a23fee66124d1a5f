import { loadConfigOrExit, runService } from '@strata/core';
import { closeProjectorDeps, createProjectorDeps } from './deps.ts';
import { startProjector } from './service.ts';

const config = loadConfigOrExit(process.env);
const deps = createProjectorDeps(config);
runService(deps.logger, () => startProjector(deps), () => closeProjectorDeps(deps));
