import { installShutdown, loadConfigOrExit } from '@strata/core';
import { closeDeps, createDeps } from './deps.ts';
import { buildProbeServer } from './probe-server.ts';
import { buildWorkers } from './workers.ts';

const config = loadConfigOrExit(process.env);
const deps = createDeps(config);
const worker = buildWorkers(deps);
let closing = false;
const probes = buildProbeServer(deps, () => closing);
// Stop taking jobs and let the batches in hand finish (worker.close waits for them), then close.
installShutdown(deps.logger, async () => {
  closing = true;
  await worker.close();
  await probes.close();
  await closeDeps(deps);
});
await probes.listen({ host: config.host, port: config.projectorMetricsPort });
void worker.run();
deps.logger.info({ concurrency: config.projectorConcurrency }, 'projector started');
