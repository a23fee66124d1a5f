// @strata/core: mechanisms and contracts shared by the services. No business SQL lives here
// except authentication, which both APIs must agree on.
export type { Config } from './config/config.ts';
export { loadConfig } from './config/load-config.ts';
export { loadConfigOrExit } from './config/load-config-or-exit.ts';

export { createPool, KEEPALIVE_INITIAL_DELAY_MS, type Pool, type PoolClient, type Queryable, type PoolOptions } from './db/create-pool.ts';
export { withClient } from './db/with-client.ts';
export { withTransaction } from './db/with-transaction.ts';
export { jsonbEntries } from './db/jsonb-entries-sql.ts';
export { lockTenantLabelVersions, waitForLabelWrites } from './db/lock-tenant-label-versions.ts';

export { createRedis, Redis, type RedisOptions } from './redis/create-redis.ts';
export { whenReady } from './redis/when-ready.ts';
export { redisKeys } from './redis/redis-keys.ts';
export { defineLiveWatchCommand, IS_LIVE_WATCHED_LUA, queueLiveWatch, setLiveWatch } from './redis/live-watch.ts';
export { readEvictionPolicy } from './redis/read-eviction-policy.ts';

export { INGEST_QUEUE, INGEST_JOB, type IngestJobData, type BatchEvent } from './queues/ingest-queue.ts';
export { batchEventColumns, type BatchEventColumns } from './queues/batch-event-columns.ts';
export { valueStateText } from './schemas/value-state-text.ts';

export * from './schemas/event.ts';
export { normalizeEvent } from './schemas/normalize-event.ts';
export { isName } from './schemas/is-name.ts';
export { setOwnKey } from './schemas/set-own-key.ts';
export { eventKey } from './schemas/event-key.ts';
export { checkLabels, LABEL_RULE, type LabelPatch, type LabelProblem, type CheckedLabels } from './schemas/check-labels.ts';
export { UUID_PATTERN } from './schemas/uuid-pattern.ts';
export { REPLICAS_PATH, type ReplicasResponse, type ReplicaView, type BreakerState } from './schemas/replicas-response.ts';

export { encodeToken, decodeToken } from './tokens/consistency-token.ts';

export { generateApiKey, hashApiKey, isWellFormedApiKey, API_KEY_PATTERN } from './auth/api-key.ts';
export { issueApiKey, type IssueKeyOptions, type IssuedKey } from './auth/issue-api-key.ts';
export { findKeyByHash } from './auth/find-key-by-hash.ts';
export { listApiKeys, type ApiKeyListing } from './auth/list-api-keys.ts';
export { revokeApiKey } from './auth/revoke-api-key.ts';
export { publishKeyRevocation } from './auth/publish-key-revocation.ts';
export { TenantAuthenticator, type TenantAuthenticatorOptions } from './auth/tenant-authenticator.ts';
export { type KeyIdentity, type KeyScope, KEY_SCOPES } from './auth/key-identity.ts';
export { requireScope, requireDevice, isDeviceBound } from './auth/require-access.ts';
export { LruCache } from './auth/lru-cache.ts';
export { clientAddressBucket } from './auth/client-address-bucket.ts';

export { createMetricsRegistry } from './metrics/create-metrics-registry.ts';
export { createHttpServer, type HttpServerOptions } from './http/create-http-server.ts';
export { registerRequestMetrics } from './http/register-request-metrics.ts';
export { registerProbeRoutes, type ProbeOptions } from './http/register-probe-routes.ts';
export { registerRouteAuthentication, type RouteAccess, type RouteAuthenticationOptions } from './http/register-route-authentication.ts';
export { registerApiDocs, DOCS_PATH, type ApiDocsOptions, type SecurityRequirement } from './http/register-api-docs.ts';
export { ErrorBody, errorResponse, errorResponses } from './http/error-responses.ts';
export { postgresCheck, redisCheck, queueRedisCheck } from './health/dependency-checks.ts';
export { runCheck } from './health/run-check.ts';
export type { CheckResult, HealthCheck } from './health/check-result.ts';

export { createLogger, type Logger } from './logging/create-logger.ts';
export { ThrottledLogger } from './logging/throttled-logger.ts';
export { runService, type StoppableService } from './lifecycle/run-service.ts';
export { ServiceStopper } from './lifecycle/service-stopper.ts';
export { closeAll } from './lifecycle/close-all.ts';
export { CallBatcher, type CallBatcherOptions } from './batching/call-batcher.ts';
export { IntervalLoop, type IntervalLoopOptions } from './lifecycle/interval-loop.ts';

export { AppError, badRequest, unauthorized, forbidden, notFound, unavailable, tooManyRequests, type FieldError } from './errors/app-error.ts';
export { ConfigError } from './errors/config-error.ts';
export { answerNotFound, registerErrorHandler } from './errors/register-error-handler.ts';

export { type Clock, systemClock } from './time/clock.ts';
export { parseEventTime } from './time/parse-event-time.ts';
export { withTimeout, TimeoutError, type WithTimeoutOptions } from './time/with-timeout.ts';

export { ingestJobOptions } from './queues/ingest-job-options.ts';

export { parseReplicaEntries, type ReplicaTarget } from './config/parse-replica-entries.ts';
export {
  LIVE_ENTRY_FIELD,
  LIVE_STREAM_MAXLEN,
  encodeLiveDelta,
  encodeLiveDeltaOfState,
  liveMessageFromEntry,
  decodeLiveMessage,
  type LiveDelta,
  type LiveMessage,
} from './schemas/live-message.ts';
export { CACHED_STATE_FIELDS, encodeCachedState, encodeCachedValueState, decodeCachedState, type CachedState } from './schemas/cached-state.ts';
