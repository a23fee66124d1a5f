import { Counter, type Registry } from 'prom-client';

export interface QueryMetrics {
  reads: Counter<'source' | 'consistency'>;
  cacheLookups: Counter<'result'>;
}

/** The query API's own metrics, on the process registry (never prom-client's global one). */
export function createQueryMetrics(registry: Registry): QueryMetrics {
  return {
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
