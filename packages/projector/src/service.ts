import type { FastifyInstance } from 'fastify';
import { buildAggregateRefreshLoop } from './aggregation/build-aggregate-refresh-loop.ts';
import type { ProjectorDeps } from './deps.ts';
import { buildProbeServer } from './probe-server.ts';
import { buildWorkers } from './workers.ts';

export interface RunningProjector {
  /** The listening probe server (/livez, /readyz, /metrics). */
  probes: FastifyInstance;
  /** True from the moment stop() is called: readiness then answers 503. */
  isClosing(): boolean;
  /** Stops taking jobs, lets the batches in hand finish, then ends the refresher and the probe server. */
  stop(): Promise<void>;
}

/** Builds the ingest worker, the aggregate refresher and the probe server, and starts all three. */
export async function startProjector(deps: ProjectorDeps): Promise<RunningProjector> {
  let closing = false;
  const worker = buildWorkers(deps);
  const refresher = buildAggregateRefreshLoop(deps);
  const probes = buildProbeServer(deps, { isClosing: () => closing });
  await probes.listen({ host: deps.config.host, port: deps.config.projectorMetricsPort });
  void worker.run();
  refresher.start();
  deps.logger.info({ concurrency: deps.config.projectorConcurrency }, 'projector started');
  return {
    probes,
    isClosing: () => closing,
    async stop() {
      closing = true;
      // worker.close waits for the active jobs, so every batch taken is projected and completed.
      await worker.close();
      await refresher.stop();
      // Last, so /readyz keeps answering 503 (not refusing connections) while the rest stops.
      await probes.close();
    },
  };
}
