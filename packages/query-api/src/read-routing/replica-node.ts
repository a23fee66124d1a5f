import type { Pool } from '@strata/core';
import type { Breaker } from './breaker.ts';

/** The last probe of a replica, as the lag monitor recorded it. */
export interface ProbeResult {
  /** Local clock (ms) when the probe round began. */
  at: number;
  ok: boolean;
  /** Upper bound on the replica's staleness at `at`, in ms; Infinity when it cannot be bounded. */
  lagMs: number;
  replayLsn: string | null;
  inRecovery: boolean;
  error?: string;
}

/** One configured replica: its pool, its breaker and what the monitor last learnt about it. */
export interface ReplicaNode {
  name: string;
  pool: Pool;
  /** The same replica with generic plans only, for reads whose plans do not depend on their values (decision 0105). */
  genericPool: Pool;
  breaker: Breaker;
  probe: ProbeResult | undefined;
}
