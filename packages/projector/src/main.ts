import { installShutdown, loadConfigOrExit } from '@strata/core';
import { buildAggregateRefreshLoop } from './aggregation/build-aggregate-refresh-loop.ts';
import { closeDeps, createDeps } from './deps.ts';
import { buildProbeServer } from './probe-server.ts';
import { buildWorkers } from './workers.ts';

const config = loadConfigOrExit(process.env);
const deps = createDeps(config);
const worker = buildWorkers(deps);
const refresher = buildAggregateRefreshLoop(deps);
let closing = false;
const probes = buildProbeServer(deps, () => closing);
// Stop taking jobs and let the batches in hand finish (worker.close waits for them), then close.
installShutdown(deps.logger, async () => {
  closing = true;
  await worker.close();
  await refresher.stop();
  await probes.close();
  await closeDeps(deps);
});
await probes.listen({ host: config.host, port: config.projectorMetricsPort });
void worker.run();
refresher.start();
deps.logger.info({ concurrency: config.projectorConcurrency }, 'projector started');
