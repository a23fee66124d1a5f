import type { Clock, Config } from '@strata/core';
import type { QueryMetrics } from '../model/query-metrics.ts';
import type { ReadRouter } from '../read-routing/read-router.ts';
import type { KeptAnswers } from '../reads/kept-answers.ts';

/** What every routed read endpoint needs: the router, the reads counter, the default staleness bound. */
export interface ReadRouteDeps {
  router: ReadRouter;
  metrics: Pick<QueryMetrics, 'reads'>;
  config: Pick<Config, 'maxStalenessMs'>;
  clock: Clock;
}

/** A read endpoint whose answers may be kept for reuse while unchanged (decision 0103): series and stats. */
export interface KeepingReadRouteDeps extends ReadRouteDeps {
  /** Undefined when ANSWER_MEMO_MAX_BYTES is 0: nothing is kept. */
  keptAnswers: KeptAnswers | undefined;
}
