import type { Counter, Gauge } from 'prom-client';

/** The query API's own counters and gauges (createQueryMetrics registers them). */
export interface QueryMetrics {
  reads: Counter<'source' | 'consistency'>;
  cacheLookups: Counter<'result'>;
  answerMemoLookups: Counter<'read' | 'result'>;
  projectionWaits: Counter<'result'>;
  replicaSkips: Counter<'replica' | 'reason'>;
  streamClients: Gauge;
  streamsEnded: Counter<'reason'>;
}
