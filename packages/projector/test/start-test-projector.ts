import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import {
  INGEST_JOB,
  INGEST_QUEUE,
  createPool,
  defineLiveWatchCommand,
  redisKeys,
  setLiveWatch,
  normalizeEvent,
  type BatchEvent,
  type Config,
  type IngestJobData,
} from '@strata/core';
import { createTenant, createTestEnvironment, stageEvents, type Teardownable } from '@strata/testkit';
import { refreshAggregates, type RefreshOutcome } from '../src/aggregation/refresh-aggregates.ts';
import { closeProjectorDeps, createProjectorDeps, type ProjectorDeps, type ProjectorDepsOverrides } from '../src/deps.ts';
import { buildWorkers } from '../src/workers.ts';

export interface ProjectorTestContext {
  config: Config;
  deps: ProjectorDeps;
  db: pg.Pool;
  queue: Queue<IngestJobData>;
  tenant: string;
  /** Enqueues events as command-api would and resolves once the batch is applied and its job completed (its states in the cache). */
  /**
   * Projects the events as one batch: its job only (the job form), or with `staged`, staged first with
   * command-api's statement as command-api stages a batch (the drain then reads staging). `tenants`
   * gives event i the tenant tenants[i] (a batch mixing tenants, as group commit makes them).
   */
  project(events: unknown[], tenant?: string, options?: ProjectOptions): Promise<string>;
  /** Marks the tenant watched, as query-api does while it has a live client: the projector then logs and publishes its updates. */
  watchLive(tenant?: string): Promise<void>;
  /** Subscribes to the tenant's live channel on a connection of its own; the returned array fills with the messages published. */
  subscribeLive(): Promise<string[]>;
  /** Rounds of the aggregate refresher, as the projector's loop runs them, until no ended minute is left noted (the loop is not started here). */
  refresh(): Promise<RefreshOutcome>;
}

export interface ProjectOptions {
  staged?: boolean;
  beforeJob?: (batchId: string) => Promise<void>;
  tenants?: string[];
}

/** A running projector worker on a private database and Redis prefix. */
export async function startTestProjector(t: Teardownable, overrides: Partial<Config> = {}, depsOverrides: Partial<ProjectorDepsOverrides> = {}): Promise<ProjectorTestContext> {
  const { config, logger } = await createTestEnvironment(t, overrides);
  const deps = createProjectorDeps(config, { logger, ...depsOverrides });
  t.teardown(() => closeProjectorDeps(deps));
  const worker = buildWorkers(deps);
  void worker.run();
  t.teardown(() => worker.close());
  const db = createPool({ connectionString: config.databaseUrl, max: 2, applicationName: 'test' }, logger);
  t.teardown(() => db.end());
  const queue = new Queue<IngestJobData>(INGEST_QUEUE, { connection: { url: config.redisUrl }, prefix: config.redisPrefix });
  t.teardown(() => queue.close());
  const { tenant } = await createTenant(db, 'projector test');

  const project = async (raw: unknown[], forTenant = tenant, options: ProjectOptions = {}): Promise<string> => {
    const events: BatchEvent[] = raw.map((item, i) => {
      const result = normalizeEvent(item);
      if ('errors' in result) throw new Error(`bad test event: ${JSON.stringify(result.errors)}`);
      return { ...result.event, tenantId: options.tenants?.[i] ?? forTenant };
    });
    const batchId = randomUUID();
    if (options.staged) await stageEvents(db, events, batchId);
    await options.beforeJob?.(batchId);
    const job = await queue.add(INGEST_JOB, { batchId, acceptedAt: Date.now(), events }, { jobId: batchId });
    await waitForApplied(db, batchId, job.id as string, queue);
    return batchId;
  };
  const refresh = async (): Promise<RefreshOutcome> => {
    const total: RefreshOutcome = { minutes: 0, skippedTenants: 0, backloggedTenants: 0, labelSamples: 0, failedTenants: 0, heads: { advanced: 0, givenUp: 0, held: 0 } };
    for (;;) {
      const round = await refreshAggregates(deps.pool, { now: Date.now() });
      total.minutes += round.minutes;
      total.skippedTenants += round.skippedTenants;
      if (round.minutes === 0) return total;
    }
  };
  defineLiveWatchCommand(deps.cache);
  const watchLive = async (forTenant = tenant): Promise<void> => setLiveWatch(deps.cache, config.redisPrefix, forTenant, 300);
  const subscribeLive = async (): Promise<string[]> => {
    const subscriber = new Redis(config.redisUrl);
    t.teardown(() => subscriber.disconnect());
    const messages: string[] = [];
    subscriber.on('message', (_channel: string, message: string) => messages.push(message));
    await subscriber.subscribe(redisKeys.liveChannel(config.redisPrefix, tenant));
    return messages;
  };
  return { config, deps, db, queue, tenant, project, refresh, watchLive, subscribeLive };
}

async function waitForApplied(db: pg.Pool, batchId: string, jobId: string, queue: Queue<IngestJobData>): Promise<void> {
  for (let i = 0; i < 500; i++) {
    const found = await db.query('SELECT 1 FROM applied_batches WHERE batch_id = $1', [batchId]);
    // Applied is committed; the job completes once its drain's states are in the cache too.
    if (found.rowCount && ['completed', 'unknown'].includes(await queue.getJobState(jobId))) return;
    const job = await queue.getJob(jobId);
    if (job?.failedReason) throw new Error(`batch failed: ${job.failedReason}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`batch ${batchId} was not applied and completed within 10 s`);
}
