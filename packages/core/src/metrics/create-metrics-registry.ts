import { Registry, collectDefaultMetrics } from 'prom-client';

/**
 * One registry per process (never prom-client's global), labelled with the service, with Node's
 * default process metrics. Services register their own metrics on it.
 */
export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry, prefix: 'strata_' });
  return registry;
}
