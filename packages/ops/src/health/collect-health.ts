import type { Queue } from 'bullmq';
import { postgresCheck, queueRedisCheck, redisCheck, runCheck, type Clock, type HealthCheck, type Pool, type Redis } from '@strata/core';
import { countDeadLetters } from '../queries/count-dead-letters.ts';
import { countStagingBacklog } from '../queries/count-staging-backlog.ts';
import { readHeartbeatAge } from '../queries/read-heartbeat-age.ts';
import { countIngestJobs } from '../status/count-ingest-jobs.ts';
import { readPartitionCoverage } from '../status/read-partition-coverage.ts';
import type { HealthReport } from './health-report.ts';
import { readRoutingHealth } from './read-routing-health.ts';

export interface HealthSources {
  pool: Pool;
  queueRedis: Redis;
  cacheRedis: Redis;
  ingestQueue: Queue;
  clock: Clock;
  /** Set when replicas are configured: where the query API reports its replica and breaker view. */
  queryApiUrl?: string;
}

/**
 * The ops service writes the heartbeat every second; older than this means it is not running (or
 * cannot reach the primary), and replica lag can no longer be measured.
 */
export const HEARTBEAT_MAX_AGE_MS = 30_000;
const CHECK_TIMEOUT_MS = 3000;

/** Every check at once, each under its own time limit; the report is unhealthy if any fails. */
export async function collectHealth(sources: HealthSources): Promise<HealthReport> {
  const { pool, queueRedis, cacheRedis, ingestQueue, clock, queryApiUrl } = sources;
  const checks: Record<string, HealthCheck> = {
    postgres: postgresCheck(pool),
    // Reachable (latency), then never evicting: the same two checks as the services' readiness.
    queueRedis: async () => ({ ...(await redisCheck(queueRedis)()), ...(await queueRedisCheck(queueRedis)()) }),
    cacheRedis: redisCheck(cacheRedis),
    stagingBacklog: async () => ({ ok: true, ...(await countStagingBacklog(pool)) }),
    ingestQueue: async () => {
      const { waiting, delayed, prioritized, active, failed } = await countIngestJobs(ingestQueue);
      // A failed job is an acknowledged batch that is not projected: someone must retry it.
      return { ok: failed === 0, depth: waiting + delayed + prioritized, active, failed, ...(failed ? { error: `${failed} failed batch jobs (see pnpm ops dlq jobs list)` } : {}) };
    },
    // An event the database refused after it was acknowledged: stored nowhere else, so it needs an operator.
    deadLetters: async () => {
      const { events, tenants } = await countDeadLetters(pool);
      return { ok: events === 0, events, tenants, ...(events ? { error: `${events} dead-lettered events (see pnpm ops dlq list)` } : {}) };
    },
    partitions: async () => {
      const { daily: present, missing } = await readPartitionCoverage(pool, clock.now());
      return { ok: missing.length === 0, present, missing, ...(missing.length ? { error: `missing ${missing.join(', ')}` } : {}) };
    },
    heartbeat: async () => {
      const ageMs = await readHeartbeatAge(pool);
      if (ageMs === undefined) return { ok: false, error: 'replication_heartbeat row is missing' };
      const ok = ageMs <= HEARTBEAT_MAX_AGE_MS;
      return { ok, ageMs, ...(ok ? {} : { error: `last beat ${Math.round(ageMs / 1000)} s ago; is the ops service running?` }) };
    },
  };
  if (queryApiUrl) checks.readRouting = () => readRoutingHealth(queryApiUrl, CHECK_TIMEOUT_MS - 500);
  const entries = await Promise.all(
    Object.entries(checks).map(async ([name, check]) => [name, await runCheck(check, CHECK_TIMEOUT_MS)] as const),
  );
  const results = Object.fromEntries(entries);
  const ok = entries.every(([, result]) => result.ok);
  return { status: ok ? 'ok' : 'unhealthy', checkedAt: new Date(clock.now()).toISOString(), checks: results };
}
