import type { Clock, Config } from '@strata/core';
import type { QueryMetrics } from '../model/query-metrics.ts';
import type { ReadRouter } from '../read-routing/read-router.ts';

/** What every routed read endpoint needs: the router, the reads counter, the default staleness bound. */
export interface ReadRouteDeps {
  router: ReadRouter;
  metrics: Pick<QueryMetrics, 'reads'>;
  config: Pick<Config, 'maxStalenessMs'>;
  clock: Clock;
}
