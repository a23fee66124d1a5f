import t from 'tap';
import { Registry } from 'prom-client';
import { createCommandMetrics } from './metrics.ts';

t.test('refusal counters are exported at 0 for every reason before the first refusal', async (t) => {
  const registry = new Registry();
  createCommandMetrics(registry);
  const text = await registry.metrics();
  for (const reason of ['invalid', 'too_many_keys', 'forbidden', 'rate_limited', 'unavailable']) {
    t.match(text, `strata_events_rejected_total{reason="${reason}"} 0`);
  }
  for (const reason of ['invalid', 'unauthorized', 'forbidden', 'too_large', 'unsupported_media_type', 'rate_limited', 'unavailable']) {
    t.match(text, `strata_ingest_requests_rejected_total{reason="${reason}"} 0`);
  }
});
