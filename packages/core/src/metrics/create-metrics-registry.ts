import { Registry, collectDefaultMetrics } from 'prom-client';

/**
 * One registry per process (never prom-client's global), labelled with the service, with Node's
 * default process metrics. Services register their own metrics on it.
 */
export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry, prefix: 'strata_' });
  // These three are gauges named *_total, which the exposition format reserves for counters;
  // `promtool check metrics` rejects them, and the process handle counts add little.
  for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) {
    registry.removeSingleMetric(`strata_${name}`);
  }
  return registry;
}
