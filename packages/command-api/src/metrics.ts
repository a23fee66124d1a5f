import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface CommandMetrics {
  eventsAccepted: Counter;
  eventsRejected: Counter<'reason'>;
  requestsRejected: Counter<'reason'>;
  batchEvents: Histogram;
  batchRequests: Histogram;
  batchWriteDuration: Histogram<'outcome'>;
}

export function createCommandMetrics(registry: Registry): CommandMetrics {
  return {
    eventsAccepted: new Counter({
      name: 'strata_events_accepted_total',
      help: 'Events acknowledged with 202 (in staging and the queue).',
      registers: [registry],
    }),
    eventsRejected: new Counter({
      name: 'strata_events_rejected_total',
      help: 'Events in requests that were read and refused, by reason (invalid: the batch had an invalid event; too_many_keys: past MAX_KEYS_PER_DEVICE; forbidden: a device-bound key wrote as another device; rate_limited: over the tenant rate; unavailable: storage refused).',
      labelNames: ['reason'],
      registers: [registry],
    }),
    requestsRejected: new Counter({
      name: 'strata_ingest_requests_rejected_total',
      help: 'Write requests refused, by reason (invalid, unauthorized, forbidden, too_large, unsupported_media_type, rate_limited, unavailable).',
      labelNames: ['reason'],
      registers: [registry],
    }),
    batchEvents: new Histogram({
      name: 'strata_ingest_batch_events',
      help: 'Events per group-commit batch (one staging write and one job each).',
      buckets: [1, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10000],
      registers: [registry],
    }),
    batchRequests: new Histogram({
      name: 'strata_ingest_batch_requests',
      help: 'Requests sharing one group-commit batch.',
      buckets: [1, 2, 5, 10, 25, 50, 100, 250],
      registers: [registry],
    }),
    batchWriteDuration: new Histogram({
      name: 'strata_ingest_batch_write_duration_seconds',
      help: 'Time to write one batch to staging and the queue, by outcome.',
      labelNames: ['outcome'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers: [registry],
    }),
  };
}

/** Events the group committer holds (gathering, waiting, being written); read at scrape time only. */
export function registerHeldEventsGauge(registry: Registry, read: () => number): void {
  new Gauge({
    name: 'strata_ingest_held_events',
    help: 'Events accepted for writing and not yet answered; requests past the bound get 503.',
    registers: [registry],
    collect() {
      this.set(read());
    },
  });
}
