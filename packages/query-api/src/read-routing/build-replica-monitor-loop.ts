import { IntervalLoop, type Logger } from '@strata/core';
import type { ReplicaSet } from './replica-set.ts';

/** Probes every 250 ms keep lag figures fresh to within a quarter second at ~4 queries/s per replica. */
const PROBE_INTERVAL_MS = 250;

export interface ReplicaMonitorLoop {
  /** Runs a first round (so the first reads can already use healthy replicas), then one every interval. */
  start(): Promise<void>;
  /** Stops the timer and waits for a round in flight, so the replica pools can be closed right after. */
  stop(): Promise<void>;
}

/**
 * The lag monitor: probe rounds over the replica set, never overlapping (a round still running when
 * the next is due is skipped). Without replicas it does nothing, not even ask the primary.
 */
export function buildReplicaMonitorLoop(
  replicas: Pick<ReplicaSet, 'nodes' | 'probeAll'>,
  options: { logger: Logger; intervalMs?: number },
): ReplicaMonitorLoop {
  const loop = new IntervalLoop({
    name: 'replica monitor',
    intervalMs: options.intervalMs ?? PROBE_INTERVAL_MS,
    logger: options.logger,
    run: () => replicas.probeAll(),
  });
  return {
    async start() {
      if (replicas.nodes.length === 0) return;
      await loop.runOnce();
      loop.start();
    },
    stop: () => loop.stop(),
  };
}
