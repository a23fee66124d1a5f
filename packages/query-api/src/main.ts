import { loadConfigOrExit, runService } from '@strata/core';
import { closeQueryDeps, createQueryDeps } from './deps.ts';
import { startQueryApi } from './service.ts';

// Composition root: the only place that reads the environment and handles signals.
const config = loadConfigOrExit(process.env);
const deps = createQueryDeps(config);
runService(deps.logger, () => startQueryApi(deps), () => closeQueryDeps(deps));
