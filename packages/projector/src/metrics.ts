import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface ProjectorMetrics {
  jobs: Counter<'outcome'>;
  batchEvents: Histogram;
  drainBatches: Histogram;
  drainReruns: Counter;
  flushDuration: Histogram;
  eventsProjected: Counter<'result'>;
  projectionLag: Histogram;
  cacheWrites: Counter<'outcome'>;
  liveDeltas: Counter<'outcome'>;
  liveDeltaResends: Counter<'result'>;
  batchesSplit: Counter;
  aggregateRefreshes: Counter<'result'>;
  aggregateMinutesRefreshed: Counter;
  aggregateRefreshDuration: Histogram;
  groupNotes: Gauge;
  labelFolds: Counter<'source'>;
  groupHeads: Counter<'outcome'>;
}

export function createProjectorMetrics(registry: Registry): ProjectorMetrics {
  const metrics: ProjectorMetrics = {
    jobs: new Counter({
      name: 'strata_projector_jobs_total',
      help: 'Ingest job outcomes: completed, retried (failed, will retry), dead_lettered (in the failed set), deferred (database away, retried without using an attempt), stalled (worker died).',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    batchEvents: new Histogram({
      name: 'strata_flush_batch_events',
      help: 'Events per projected batch.',
      buckets: [1, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10000],
      registers: [registry],
    }),
    drainBatches: new Histogram({
      name: 'strata_drain_batches',
      help: 'Batches per projection transaction (the jobs active at once are drained together).',
      buckets: [1, 2, 4, 8, 16, 32, 64],
      registers: [registry],
    }),
    drainReruns: new Counter({
      name: 'strata_drain_reruns_total',
      help: 'Drains run a second time skipping stored events: the first run inserted history without ON CONFLICT and met an event history held (a re-sent event). After one, drains skip duplicates for 10 s, renewed while they keep meeting them (decision 0127).',
      registers: [registry],
    }),
    flushDuration: new Histogram({
      name: 'strata_flush_duration_seconds',
      help: 'From a job handing its batch to the drains to its projection being committed.',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    eventsProjected: new Counter({
      name: 'strata_events_projected_total',
      help: 'Events processed by the projector: inserted into history, duplicate (already stored), or dead_lettered (refused by the database, recorded in dead_letters).',
      labelNames: ['result'],
      registers: [registry],
    }),
    projectionLag: new Histogram({
      name: 'strata_projection_lag_seconds',
      help: 'From acknowledgement (202) to the batch being committed and visible to reads on the primary.',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [registry],
    }),
    cacheWrites: new Counter({
      name: 'strata_cache_writes_total',
      help: 'Latest-state cache write-throughs, by outcome (written, stale: a newer version was there, error).',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    liveDeltas: new Counter({
      name: 'strata_live_deltas_total',
      help: 'Projected device states written through, by what was done with their live update: encoded (its delta was computed: sent to Redis, which logs it if the tenant is watched and it is not empty; a resend in which no state changed is counted here but not sent) or skipped (the tenant was last reported unwatched and still was, decision 0098). States whose call failed are not counted.',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    liveDeltaResends: new Counter({
      name: 'strata_live_delta_resends_total',
      help: 'Write-through calls sent again with their live updates (the tenant was believed unwatched but a live client had arrived, decision 0098), by result: sent, or failed (the cache was written, the live updates were not logged).',
      labelNames: ['result'],
      registers: [registry],
    }),
    batchesSplit: new Counter({
      name: 'strata_projector_batches_split_total',
      help: 'Batches the database refused as a whole, split to isolate the refused events (see strata_events_projected_total{result="dead_lettered"}).',
      registers: [registry],
    }),
    aggregateRefreshes: new Counter({
      name: 'strata_aggregate_refreshes_total',
      help: 'Refresher rounds completed, and tenant refresh transactions failed (rolled back: the tenant\'s minutes stay noted and are retried after a back-off; the round goes on with the other tenants).',
      labelNames: ['result'],
      registers: [registry],
    }),
    aggregateMinutesRefreshed: new Counter({
      name: 'strata_aggregate_buckets_refreshed_total',
      help: 'Tenant minutes recomputed from history and written into rollups and counters (with their hours and days).',
      registers: [registry],
    }),
    aggregateRefreshDuration: new Histogram({
      name: 'strata_aggregate_refresh_duration_seconds',
      help: 'Time of one completed round of the aggregate refresher.',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    groupNotes: new Gauge({
      name: 'strata_group_notes',
      help: 'Group minutes noted for recomputation by label changes (group_dirty rows, counted up to 1,000,000) after the last refresh round: the backlog of retroactive relabels.',
      registers: [registry],
    }),
    labelFolds: new Counter({
      name: 'strata_label_folds_total',
      help: "Label samples folded into label versions, by source (event: an event's labels, folded by the refresher).",
      labelNames: ['source'],
      registers: [registry],
    }),
    groupHeads: new Counter({
      name: 'strata_group_heads_total',
      help: 'Open minutes whose group heads the refresher advanced (once per move: a round with a claim due moves them before and after it), gave up (a drain landed an event before the head: reads combine the minute whole until it starts again), held still (too many devices stamped ahead of the clock), or failed to advance (decision 0085).',
      labelNames: ['outcome'],
      registers: [registry],
    }),
  };
  // Exported at 0 from the start, so an alert's increase() sees the first failed round after a restart.
  for (const outcome of ['encoded', 'skipped']) metrics.liveDeltas.inc({ outcome }, 0);
  for (const result of ['sent', 'failed']) metrics.liveDeltaResends.inc({ result }, 0);
  for (const result of ['completed', 'failed']) metrics.aggregateRefreshes.inc({ result }, 0);
  for (const outcome of ['advanced', 'given_up', 'held', 'failed']) metrics.groupHeads.inc({ outcome }, 0);
  return metrics;
}
