import type { LevelWithSilent } from 'pino';
import type { ReplicaTarget } from './parse-replica-entries.ts';

/** Everything a Strata process can be configured with; one shape for all four services. */
export interface Config {
  databaseUrl: string;
  replicaUrls: string[];
  /** The same replicas with the names reads report (`name=url` entries, else `host:port`). */
  replicas: ReplicaTarget[];
  redisUrl: string;
  cacheRedisUrl: string;
  /** Prefix for every Redis key, queue and channel, so several deployments (or test files) share one Redis. */
  redisPrefix: string;
  host: string;
  commandApiPort: number;
  queryApiPort: number;
  opsPort: number;
  projectorMetricsPort: number;
  logLevel: LevelWithSilent;
  retentionDays: number;
  /** Days rollups, counts and group aggregates are kept (issue 13); never fewer than retentionDays. */
  aggregateRetentionDays: number;
  maxStalenessMs: number;
  /**
   * How long a strong (or token) read of history, series, stats, lists or groups waits on the primary
   * for its acknowledged, still-staged batches to be projected before it answers 503 (decision 0104);
   * 0 refuses such a read at once instead of waiting.
   */
  strongReadWaitMs: number;
  /**
   * Bytes of series and stats answers each query-api keeps for reuse while what they were computed
   * from is unchanged (decision 0103); 0 keeps none. One tenant may hold a quarter of it.
   */
  answerMemoMaxBytes: number;
  cacheTtlSeconds: number;
  /** Group commit: a batch closes at this many events or this many milliseconds after its first request. */
  ingestMaxBatchEvents: number;
  ingestMaxWaitMs: number;
  maxBodyBytes: number;
  /** Events per second per tenant accepted by the command API (all transports together); 0 disables the limit. */
  ingestRateLimitEventsPerSecond: number;
  /**
   * Characters of event bodies per second per tenant (JSON, NDJSON and line protocol after
   * decompression, MQTT payloads), all transports together; 0 disables the limit (decision 0124).
   */
  ingestRateLimitBytesPerSecond: number;
  /** Read requests per second per tenant on the query API; 0 disables the limit. */
  readRateLimitPerSecond: number;
  /** Failed authentications per minute per client address before it gets 429; 0 disables the limit. */
  authFailuresPerMinute: number;
  /** How far ahead of the server clock an event's `ts` may be. */
  maxFutureSkewMs: number;
  /** Distinct value keys one device may hold; an event adding keys past it is refused. */
  maxKeysPerDevice: number;
  /** Open live streams (SSE) per tenant, and in the whole process. */
  streamsPerTenant: number;
  streamsTotal: number;
  /** A live-stream client whose unsent output passes this many bytes is disconnected. */
  streamMaxBufferBytes: number;
  /** Bytes a tenant's resumable live stream (Redis) may hold; the oldest entries go first. */
  liveStreamMaxBytes: number;
  /**
   * Seconds a tenant's live updates are still logged after its last live client left, so a client that
   * reconnects within them is replayed what it missed; after that nothing is logged until a client comes.
   */
  liveResumeSeconds: number;
  /** HTTP servers: whole-request deadline, idle socket timeout, keep-alive timeout and connection cap. */
  httpRequestTimeoutMs: number;
  httpConnectionTimeoutMs: number;
  httpKeepAliveTimeoutMs: number;
  httpMaxConnections: number;
  /** The command API's MQTT listener (MQTT_PORT; 0 turns it off) and its bounds (README "MQTT"). */
  mqttPort: number;
  /** Authenticated MQTT connections per command-api process, and per tenant per process. */
  mqttMaxConnections: number;
  mqttMaxConnectionsPerTenant: number;
  /**
   * Sockets that have not finished CONNECT, per process: past it the oldest is closed to make room,
   * so keyless sockets can never hold the slots of authenticated devices.
   */
  mqttMaxPendingConnections: number;
  /** A socket that has not sent CONNECT (and been answered) within this is closed. */
  mqttConnectTimeoutMs: number;
  /** The keep-alive a client may ask for; a client asking none or more is held to this (MQTT 5 is told). */
  mqttMaxKeepAliveSeconds: number;
  /** Messages one connection may have unacknowledged (MQTT 5 Receive Maximum); reading pauses at it. */
  mqttMaxInFlight: number;
  /**
   * Addresses or CIDRs of the operator's reverse proxies (TRUST_PROXY, comma-separated; empty trusts
   * none): only a request from one of them has its client address taken from X-Forwarded-For.
   */
  trustProxy: string[];
  projectorConcurrency: number;
  /** Drains (one transaction each, holding the batches active at once) running at a time per projector. */
  projectorDrainsInFlight: number;
  /** Events one drain may hold; a drain closes before the batch that would pass it. */
  projectorDrainMaxEvents: number;
  /** Under load, a drain holding fewer than projectorDrainMinEvents starts this long after the previous drain started, so more batches join it (0: never waits; decision 0096). */
  projectorDrainLingerMs: number;
  /** The events at which a drain starts without the linger (see projectorDrainLingerMs). */
  projectorDrainMinEvents: number;
  projectorBatchAttempts: number;
  /** How often each projector recomputes the aggregate minutes noted by projections (decision 0060). */
  aggregateRefreshIntervalMs: number;
  /**
   * An ended minute still receiving notes waits until none came for this long (at most until it ended a
   * minute ago) before the refresher recomputes it: behind a backlog, once instead of every round (decision 0093).
   */
  aggregateSettleMs: number;
  /**
   * How far behind the refresher's clock the heads of open group minutes stay at least (decision 0085):
   * the events still on their way in, device clocks a little behind included.
   */
  groupHeadLagMs: number;
  dbPoolSize: number;
  /** How often ops looks for staged batches whose queue job is gone (lost with Redis). */
  stagingSweepIntervalMs: number;
  /** A staged batch younger than this is still in the hands of command-api or the projector. */
  stagingSweepAgeMs: number;
  /** How often ops vacuums the tables rewritten many times a second (decision 0089); 0: left to autovacuum. */
  churnedTableVacuumIntervalMs: number;
  /** Where `pnpm start` keeps private PostgreSQL / Redis data when it has to start its own. */
  dataDir: string;
}
