import { IntervalLoop, type Logger, type Queryable } from '@strata/core';
import { touchHeartbeat } from '../queries/touch-heartbeat.ts';

export interface HeartbeatLoopOptions {
  db: Queryable;
  logger: Logger;
  intervalMs: number;
  onError: (error: unknown) => void;
}

/**
 * Writes the replication heartbeat every interval on the primary. Replicas measure their lag by
 * the age of their copy of the row, so a missed beat shows as lag, never as a crash.
 */
export function buildHeartbeatLoop(options: HeartbeatLoopOptions): IntervalLoop {
  return new IntervalLoop({
    name: 'heartbeat',
    intervalMs: options.intervalMs,
    logger: options.logger,
    run: () => touchHeartbeat(options.db),
    onError: options.onError,
  });
}
