import { isIP } from 'node:net';
import type { LevelWithSilent } from 'pino';
import type { Config } from './config.ts';
import { ConfigError } from '../errors/config-error.ts';
import { parseReplicaEntries } from './parse-replica-entries.ts';
import { redactUrl } from './redact-url.ts';

type Env = Record<string, string | undefined>;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/**
 * Turns environment variables into a validated Config. Every problem is collected and reported
 * at once, so an operator fixes a bad deployment in one round instead of one variable per restart.
 */
export function loadConfig(env: Env): Config {
  const problems: string[] = [];
  const str = (name: string, fallback: string): string => {
    const raw = env[name];
    return raw === undefined || raw.trim() === '' ? fallback : raw.trim();
  };
  const url = (name: string, fallback: string, protocols: string[]): string => {
    const value = str(name, fallback);
    checkUrl(name, value, protocols, problems);
    return value;
  };
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = str(name, String(fallback));
    const value = Number(raw);
    if (!/^-?\d+$/.test(raw) || value < min || value > max) {
      problems.push(`${name}: expected an integer from ${min} to ${max}, got "${raw}"`);
      return fallback;
    }
    return value;
  };

  const redisUrl = url('REDIS_URL', 'redis://127.0.0.1:6379', ['redis:', 'rediss:']);
  const replicas = parseReplicaEntries(str('DATABASE_REPLICA_URLS', ''), problems);

  const logLevel = str('LOG_LEVEL', 'info');
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    problems.push(`LOG_LEVEL: expected one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);
  }
  const redisPrefix = str('REDIS_PREFIX', 'strata');
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(redisPrefix)) {
    problems.push(`REDIS_PREFIX: expected 1-64 characters of [A-Za-z0-9_.-], got "${redisPrefix}"`);
  }

  const config: Config = {
    databaseUrl: url('DATABASE_URL', 'postgres://postgres@localhost:5432/strata', ['postgres:', 'postgresql:']),
    replicaUrls: replicas.map((replica) => replica.url),
    replicas,
    redisUrl,
    cacheRedisUrl: url('CACHE_REDIS_URL', redisUrl, ['redis:', 'rediss:']),
    redisPrefix,
    host: str('HOST', '127.0.0.1'),
    commandApiPort: int('COMMAND_API_PORT', 3000, 0, 65535),
    queryApiPort: int('QUERY_API_PORT', 3001, 0, 65535),
    opsPort: int('OPS_PORT', 3002, 0, 65535),
    projectorMetricsPort: int('PROJECTOR_METRICS_PORT', 3003, 0, 65535),
    logLevel: logLevel as LevelWithSilent,
    retentionDays: int('RETENTION_DAYS', 30, 1, 36500),
    aggregateRetentionDays: int('AGGREGATE_RETENTION_DAYS', 400, 1, 36500),
    maxStalenessMs: int('MAX_STALENESS_MS', 3000, 0, 86_400_000),
    strongReadWaitMs: int('STRONG_READ_WAIT_MS', 5000, 0, 600_000),
    answerMemoMaxBytes: int('ANSWER_MEMO_MAX_BYTES', 32 * 1024 * 1024, 0, 64 * 1024 * 1024 * 1024),
    cacheTtlSeconds: int('CACHE_TTL_SECONDS', 86_400, 1, 31_536_000),
    ingestMaxBatchEvents: int('INGEST_MAX_BATCH_EVENTS', 2000, 1, 10_000),
    ingestMaxWaitMs: int('INGEST_MAX_WAIT_MS', 2, 0, 1000),
    maxBodyBytes: int('MAX_BODY_BYTES', 5 * 1024 * 1024, 1024, 64 * 1024 * 1024),
    ingestRateLimitEventsPerSecond: int('INGEST_RATE_LIMIT_EVENTS_PER_SECOND', 20_000, 0, 100_000_000),
    ingestRateLimitBytesPerSecond: int('INGEST_RATE_LIMIT_BYTES_PER_SECOND', 8 * 1024 * 1024, 0, 1024 * 1024 * 1024 * 1024),
    readRateLimitPerSecond: int('READ_RATE_LIMIT_PER_SECOND', 2000, 0, 10_000_000),
    authFailuresPerMinute: int('AUTH_FAILURES_PER_MINUTE', 60, 0, 10_000_000),
    maxFutureSkewMs: int('MAX_FUTURE_SKEW_MS', 3_600_000, 0, 366 * 86_400_000),
    maxKeysPerDevice: int('MAX_KEYS_PER_DEVICE', 1000, 1, 100_000),
    streamsPerTenant: int('STREAMS_PER_TENANT', 100, 1, 100_000),
    streamsTotal: int('STREAMS_TOTAL', 2000, 1, 1_000_000),
    streamMaxBufferBytes: int('STREAM_MAX_BUFFER_BYTES', 1024 * 1024, 1024, 1024 * 1024 * 1024),
    liveStreamMaxBytes: int('LIVE_STREAM_MAX_BYTES', 16 * 1024 * 1024, 64 * 1024, 4 * 1024 * 1024 * 1024),
    liveResumeSeconds: int('LIVE_RESUME_SECONDS', 300, 5, 7 * 86_400),
    httpRequestTimeoutMs: int('HTTP_REQUEST_TIMEOUT_MS', 30_000, 1000, 3_600_000),
    httpConnectionTimeoutMs: int('HTTP_CONNECTION_TIMEOUT_MS', 60_000, 1000, 3_600_000),
    httpKeepAliveTimeoutMs: int('HTTP_KEEP_ALIVE_TIMEOUT_MS', 5000, 100, 3_600_000),
    httpMaxConnections: int('HTTP_MAX_CONNECTIONS', 10_000, 1, 1_000_000),
    mqttPort: int('MQTT_PORT', 1884, 0, 65535),
    mqttMaxConnections: int('MQTT_MAX_CONNECTIONS', 10_000, 1, 1_000_000),
    mqttMaxConnectionsPerTenant: int('MQTT_MAX_CONNECTIONS_PER_TENANT', 5000, 1, 1_000_000),
    mqttMaxPendingConnections: int('MQTT_MAX_PENDING_CONNECTIONS', 1000, 1, 1_000_000),
    mqttConnectTimeoutMs: int('MQTT_CONNECT_TIMEOUT_MS', 10_000, 100, 600_000),
    mqttMaxKeepAliveSeconds: int('MQTT_MAX_KEEP_ALIVE_SECONDS', 300, 5, 65_535),
    mqttMaxInFlight: int('MQTT_MAX_IN_FLIGHT', 100, 1, 65_535),
    trustProxy: trustedProxies(str('TRUST_PROXY', ''), problems),
    projectorConcurrency: int('PROJECTOR_CONCURRENCY', 16, 1, 256),
    projectorDrainsInFlight: int('PROJECTOR_DRAINS_IN_FLIGHT', 2, 1, 64),
    projectorDrainMaxEvents: int('PROJECTOR_DRAIN_MAX_EVENTS', 2500, 1, 100_000),
    projectorDrainLingerMs: int('PROJECTOR_DRAIN_LINGER_MS', 20, 0, 1000),
    projectorDrainMinEvents: int('PROJECTOR_DRAIN_MIN_EVENTS', 500, 1, 100_000),
    projectorBatchAttempts: int('PROJECTOR_BATCH_ATTEMPTS', 5, 1, 100),
    aggregateRefreshIntervalMs: int('AGGREGATE_REFRESH_INTERVAL_MS', 1000, 50, 3_600_000),
    aggregateSettleMs: int('AGGREGATE_SETTLE_MS', 2000, 0, 60_000),
    groupHeadLagMs: int('GROUP_HEAD_LAG_MS', 500, 0, 60_000),
    dbPoolSize: int('DB_POOL_SIZE', 8, 1, 200),
    stagingSweepIntervalMs: int('STAGING_SWEEP_INTERVAL_MS', 5000, 100, 3_600_000),
    stagingSweepAgeMs: int('STAGING_SWEEP_AGE_MS', 30_000, 1000, 86_400_000),
    churnedTableVacuumIntervalMs: int('CHURNED_TABLE_VACUUM_INTERVAL_MS', 10_000, 0, 3_600_000),
    dataDir: str('STRATA_DATA_DIR', '.strata'),
  };
  // Aggregates answer for ranges whose raw history is gone, never the other way round: with fewer
  // aggregate days, a range still in raw history would lose its series and totals.
  if (config.aggregateRetentionDays < config.retentionDays) {
    problems.push(
      `AGGREGATE_RETENTION_DAYS: must be at least RETENTION_DAYS (${config.retentionDays}), got ${config.aggregateRetentionDays}`,
    );
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** proxy-addr's names for the private ranges, accepted beside addresses and CIDRs. */
const PROXY_RANGE_NAMES = ['loopback', 'linklocal', 'uniquelocal'];

function trustedProxies(raw: string, problems: string[]): string[] {
  const entries = raw.split(',').map((entry) => entry.trim()).filter((entry) => entry !== '');
  for (const entry of entries) {
    const [address = '', prefix, extra] = entry.split('/');
    const family = isIP(address);
    const bits = family === 4 ? 32 : 128;
    const validPrefix = prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= bits);
    if (!PROXY_RANGE_NAMES.includes(entry) && (family === 0 || !validPrefix || extra !== undefined)) {
      problems.push(`TRUST_PROXY: expected comma-separated IP addresses or CIDRs (or ${PROXY_RANGE_NAMES.join(', ')}), got "${entry}"`);
    }
  }
  return entries;
}

function checkUrl(name: string, value: string, protocols: string[], problems: string[]): void {
  try {
    const parsed = new URL(value);
    if (!protocols.includes(parsed.protocol)) {
      problems.push(`${name}: expected a ${protocols.join(' or ')} URL, got "${redactUrl(value)}"`);
    }
  } catch {
    problems.push(`${name}: not a valid URL: "${redactUrl(value)}"`);
  }
}
