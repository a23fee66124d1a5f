import { Counter, Histogram, type Registry } from 'prom-client';

export interface QueryMetrics {
  requestDuration: Histogram<'route' | 'method' | 'status'>;
  reads: Counter<'source' | 'consistency'>;
  cacheLookups: Counter<'result'>;
}

/** The query API's own metrics, on the process registry (never prom-client's global one). */
export function createQueryMetrics(registry: Registry): QueryMetrics {
  return {
    requestDuration: new Histogram({
      name: 'strata_http_request_duration_seconds',
      help: 'Query API request latency by route template and status code.',
      // The route template, never the raw URL: device names would make the label set unbounded.
      labelNames: ['route', 'method', 'status'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    reads: new Counter({
      name: 'strata_query_reads_total',
      help: 'Reads answered, by the source that answered (primary, replica:<name>, cache) and requested consistency.',
      labelNames: ['source', 'consistency'],
      registers: [registry],
    }),
    cacheLookups: new Counter({
      name: 'strata_query_cache_lookups_total',
      help: 'Latest-state cache lookups: hit, miss, or error (Redis failed or timed out; the read fell back).',
      labelNames: ['result'],
      registers: [registry],
    }),
  };
}
