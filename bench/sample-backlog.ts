import type { Pool, Redis } from '@strata/core';

/** At most one sample a second. */
const SAMPLE_EVERY_MS = 1000;
/** A sample at least this many times its own duration after the last one. */
const COUNT_COST_FACTOR = 20;

export interface BacklogSample {
  /** Seconds since sampling started. */
  t: number;
  /** Accepted events still in staging: acknowledged, not yet projected. */
  stagedEvents: number;
  /** Ingest jobs waiting or running in the queue. */
  queuedJobs: number;
}

export interface Backlog {
  samples: BacklogSample[];
  /** Least-squares slope of staged events over time: > 0 means the projector falls behind. */
  slopeEventsPerSec: number;
  maxStagedEvents: number;
}

/**
 * Samples the projector's backlog while a phase runs: every second, or, while staging is large, at
 * 20 times the time its count took. The count scans staging (175 ms at 400,000 staged events), and
 * once a second it took ~15 % of a core from the system it measures (pg_stat_statements during
 * `pnpm bench --only batch`, 2026-12-01); this bounds it to 5 %. The queue depth is read from BullMQ's
 * own lists (`<prefix>:ingest:wait` and `:active`), which is all a depth needs.
 */
export function sampleBacklog(db: Pool, redis: Redis, queueKey: string): { stop(): Promise<Backlog> } {
  const samples: BacklogSample[] = [];
  const started = performance.now();
  let running = true;
  const loop = (async () => {
    while (running) {
      const before = performance.now();
      const [staged, wait, active] = await Promise.all([
        db.query<{ n: number }>('SELECT count(*)::int AS n FROM staging_events'),
        redis.llen(`${queueKey}:wait`),
        redis.llen(`${queueKey}:active`),
      ]);
      const tookMs = performance.now() - before;
      samples.push({ t: Math.round((before - started) / 100) / 10, stagedEvents: staged.rows[0]?.n ?? 0, queuedJobs: wait + active });
      await new Promise((resolve) => setTimeout(resolve, Math.max(SAMPLE_EVERY_MS, COUNT_COST_FACTOR * tookMs) - tookMs));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { samples, slopeEventsPerSec: slope(samples), maxStagedEvents: Math.max(0, ...samples.map((s) => s.stagedEvents)) };
    },
  };
}

function slope(samples: BacklogSample[]): number {
  if (samples.length < 2) return 0;
  const meanT = samples.reduce((sum, s) => sum + s.t, 0) / samples.length;
  const meanY = samples.reduce((sum, s) => sum + s.stagedEvents, 0) / samples.length;
  let num = 0;
  let den = 0;
  for (const s of samples) {
    num += (s.t - meanT) * (s.stagedEvents - meanY);
    den += (s.t - meanT) ** 2;
  }
  return den === 0 ? 0 : num / den;
}
