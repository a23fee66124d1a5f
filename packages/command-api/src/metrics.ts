import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface CommandMetrics {
  eventsAccepted: Counter;
  eventsRejected: Counter<'reason'>;
  requestsRejected: Counter<'reason'>;
  batchEvents: Histogram;
  batchRequests: Histogram;
  batchWriteDuration: Histogram<'outcome'>;
  mqttConnections: Gauge<'state'>;
  mqttMessages: Counter<'outcome'>;
  mqttRefusals: Counter<'reason'>;
  labelFolds: Counter<'source'>;
}

export function createCommandMetrics(registry: Registry): CommandMetrics {
  const metrics: CommandMetrics = {
    eventsAccepted: new Counter({
      name: 'strata_events_accepted_total',
      help: 'Events acknowledged with 202 (in staging and the queue).',
      registers: [registry],
    }),
    eventsRejected: new Counter({
      name: 'strata_events_rejected_total',
      help: 'Events in requests that were read and refused, by reason (invalid: the batch had an invalid event; too_many_keys: past MAX_KEYS_PER_DEVICE or 32 labels a device; forbidden: a device-bound key wrote as another device; rate_limited: over the tenant rate; unavailable: storage refused).',
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
    mqttConnections: new Gauge({
      name: 'strata_mqtt_connections',
      help: 'Open MQTT connections, by state (connecting: before CONNACK; connected).',
      labelNames: ['state'],
      registers: [registry],
    }),
    mqttMessages: new Counter({
      name: 'strata_mqtt_messages_total',
      help: 'MQTT PUBLISH messages by outcome (accepted: stored as a 202 would be; invalid_topic, invalid_payload, too_large, forbidden, rate_limited, unavailable, qos_not_supported, protocol_error).',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    mqttRefusals: new Counter({
      name: 'strata_mqtt_refusals_total',
      help: 'MQTT connections refused or closed by the server, by reason (bad_key, forbidden, auth_rate_limited, connection_cap, tenant_cap, connect_timeout, keepalive_timeout, revoked, packet_too_large, malformed, protocol_error, a message refusal that ends the connection, ...).',
      labelNames: ['reason'],
      registers: [registry],
    }),
    labelFolds: new Counter({
      name: 'strata_label_folds_total',
      help: "Label writes folded into the devices' label versions, by source (put, patch: the HTTP API, folded at once; events' labels are folded by the projector's refresher).",
      labelNames: ['source'],
      registers: [registry],
    }),
  };
  for (const source of ['put', 'patch']) metrics.labelFolds.inc({ source }, 0);
  // Exported at 0 from the start: increase() in an alert sees the first refusal after a restart,
  // which a series born at 1 would hide (deploy/prometheus/alerts.yml).
  for (const reason of ['invalid', 'too_many_keys', 'forbidden', 'rate_limited', 'unavailable']) metrics.eventsRejected.inc({ reason }, 0);
  for (const reason of ['invalid', 'unauthorized', 'forbidden', 'too_large', 'unsupported_media_type', 'rate_limited', 'unavailable']) {
    metrics.requestsRejected.inc({ reason }, 0);
  }
  // Both states are exported from the start, so a dashboard sees 0 rather than no series.
  for (const state of ['connecting', 'connected']) metrics.mqttConnections.set({ state }, 0);
  return metrics;
}

/**
 * Events the group committer holds (gathering, waiting, being written), and the estimated memory of
 * the write requests in hand (HeldBytes); read at scrape time only.
 */
export function registerHeldGauges(registry: Registry, read: { events: () => number; bytes: () => number }): void {
  new Gauge({
    name: 'strata_ingest_held_events',
    help: 'Events accepted for writing and not yet answered; requests past the bound get 503.',
    registers: [registry],
    collect() {
      this.set(read.events());
    },
  });
  new Gauge({
    name: 'strata_ingest_held_bytes',
    help: "Estimated memory of write requests in hand, from their first step to their answer; past the budget or a tenant's share, 503.",
    registers: [registry],
    collect() {
      this.set(read.bytes());
    },
  });
}

/** strata_ingest_large_bodies{state}: large write requests being processed, and waiting their turn (decision 0123). */
export function registerLargeBodyGauge(registry: Registry, lane: { processing: number; waiting: number }): void {
  new Gauge({
    name: 'strata_ingest_large_bodies',
    help: 'Large write requests (64 KiB of JSON and up) being processed (state="processing") and waiting their turn (state="waiting"); a wait past 30 s gets 503.',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      this.set({ state: 'processing' }, lane.processing);
      this.set({ state: 'waiting' }, lane.waiting);
    },
  });
}
