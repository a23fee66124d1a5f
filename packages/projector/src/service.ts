import { ServiceStopper } from '@strata/core';
import type { FastifyInstance } from 'fastify';
import { buildAggregateRefreshLoop } from './aggregation/build-aggregate-refresh-loop.ts';
import type { ProjectorDeps } from './deps.ts';
import { buildProbeServer } from './probe-server.ts';
import { buildWorkers } from './workers.ts';

export interface RunningProjector {
  /** The listening probe server (/livez, /readyz, /metrics; with PROJECTOR_METRICS_PORT 0 its address has the port). */
  probes: FastifyInstance;
  /** Stops taking jobs and lets the batches in hand finish, then the refresher, then the probe server; deps stay open. */
  stop(): Promise<void>;
  isClosing(): boolean;
}

/** Builds the ingest worker, the aggregate refresher and the probe server; listens on config.host:projectorMetricsPort, then starts the other two. */
export async function startProjector(deps: ProjectorDeps): Promise<RunningProjector> {
  const stopper = new ServiceStopper(async () => {
    // worker.close waits for the active jobs, so every batch taken is projected and completed.
    await worker.close();
    await refresher.stop();
    // Last, so /readyz keeps answering 503 (not refusing connections) while the rest stops.
    await probes.close();
  });
  const worker = buildWorkers(deps);
  const refresher = buildAggregateRefreshLoop(deps);
  const probes = buildProbeServer(deps, { isClosing: stopper.isClosing });
  await stopper.guardStart(async () => {
    await probes.listen({ host: deps.config.host, port: deps.config.projectorMetricsPort });
  });
  void worker.run();
  refresher.start();
  deps.logger.info({ concurrency: deps.config.projectorConcurrency }, 'projector started');
  return { probes, stop: stopper.stop, isClosing: stopper.isClosing };
}
