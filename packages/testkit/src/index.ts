// @strata/testkit: what tests (and the bench) need around the real code: a migrated database and a
// Redis prefix per test file, tenants to act as, the services as OS processes, and read models
// seeded through the projector's own code. Never imported by any package's src/ (decision 0069);
// the one place tests reach into another service's code.
export { createTestEnvironment, type TestEnvironment, type Teardownable } from './create-test-environment.ts';
export { deleteKeysWithPrefix } from './delete-keys-with-prefix.ts';
export { freePort } from './free-port.ts';
export { recentBaseTime } from './recent-base-time.ts';

// Processes: one launcher for tests, the fault suite, the probes and the bench.
export { startServiceProcess, ServiceProcess, type ServiceName, type StartServiceOptions } from './start-service-process.ts';
export { waitUntilReady } from './wait-until-ready.ts';
export { launchSystem, RunningSystem, type LaunchSystemOptions } from './launch-system.ts';
export { startSystem, type TestSystem } from './start-system.ts';
export { startInProcessProjector } from './start-in-process-projector.ts';

// Talking to them.
export { apiClient, type Answer } from './api-client.ts';
export { waitForToken } from './wait-for-token.ts';
export { waitForNoNotes, type WaitForNoNotesOptions } from './wait-for-no-notes.ts';
export { seededRandom, shuffle } from './seeded-random.ts';
export { rawHttpStatus } from './raw-http-status.ts';
export { PROMTOOL, promtoolProblems } from './promtool.ts';

// Read models, seeded only through the projector's projection, refresher and cache script; staged
// (accepted, not yet projected) events through command-api's own statement.
export { toBatchEvent, type SeedEvent } from './seed-event.ts';
export { seedEvents, type SeedEventsOptions } from './seed-events.ts';
export { stageEvents } from './stage-events.ts';
export { refreshAllAggregates } from './refresh-all-aggregates.ts';
export { seedCache, type SeedCachedState } from './seed-cache.ts';
export { insertIntoHistory } from './insert-into-history.ts';
// For tests of the projection itself seen through reads (series-exact, stats-type-names): batch ids
// and refresh rounds under the test's control.
export { projectBatch } from '@strata/projector/project-batch';
export { refreshAggregates } from '@strata/projector/refresh-aggregates';
export { GROUP_MINUTE_STEPS } from '@strata/projector/group-minute-sql';

// Migrating, creating tenants and the CLI are ops' work in production (`pnpm ops migrate`, `pnpm ops
// tenant create`, `pnpm ops key revoke`); tests reach that same code through here rather than
// depending on ops themselves.
export { runMigrations } from '@strata/ops/run-migrations';
export { ensureDatabase } from '@strata/ops/ensure-database';
export { createTenant } from '@strata/ops/create-tenant';
export { runCli as runOpsCli } from '@strata/ops/cli';
// Retention as the ops scheduler runs it, with the test's clock and windows (seed 002 drops raw days).
export { partitionRetentionJob } from '@strata/ops/partition-retention-job';
export { aggregateRetentionJob } from '@strata/ops/aggregate-retention-job';
export { captureIo } from './capture-io.ts';
export { explainingQueryable, explainPlans, planNodes, quadraticNodes, type PlanCacheMode, type PlanNode } from './explaining-queryable.ts';
export { nestedPlans, type NestedPlan } from './nested-plans.ts';
export { listRoutes, openapiPath } from './list-routes.ts';
export { keepaliveMsLeft, tcpTimerOf } from './tcp-keepalive-timer.ts';
