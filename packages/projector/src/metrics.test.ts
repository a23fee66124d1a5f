import t from 'tap';
import { Registry } from 'prom-client';
import { createProjectorMetrics } from './metrics.ts';

t.test('refresher rounds are exported at 0 for both results before the first round', async (t) => {
  const registry = new Registry();
  createProjectorMetrics(registry);
  const text = await registry.metrics();
  t.match(text, 'strata_aggregate_refreshes_total{result="completed"} 0');
  t.match(text, 'strata_aggregate_refreshes_total{result="failed"} 0');
});
