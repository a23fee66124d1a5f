// @strata/devstack: PostgreSQL and Redis servers of our own and streaming replicas, started as
// child processes (initdb, pg_ctl, redis-server, pg_basebackup). For `pnpm start`, `pnpm ops replica`,
// tests and the bench; no service loads it at start-up (decision 0069).
export { isPostgresUp } from './servers/is-postgres-up.ts';
export { isRedisUp } from './servers/is-redis-up.ts';
export { startPrivatePostgres, type PrivatePostgresOptions } from './servers/start-private-postgres.ts';
export { postgresWorkloadSettings } from './servers/postgres-workload-settings.ts';
export { postgresMallocEnvironment } from './servers/postgres-malloc-environment.ts';
export { startPrivateRedis, type PrivateRedisOptions } from './servers/start-private-redis.ts';
export { type PrivateServer } from './servers/private-server.ts';
export { findPostgresBinDir } from './servers/find-postgres-bin-dir.ts';
export { hasRedisServer } from './servers/has-redis-server.ts';
export { runProcess, runProcessOrThrow, isRoot, type ProcessResult, type RunProcessOptions } from './servers/run-process.ts';

export { startStreamingReplica, type StreamingReplica, type StreamingReplicaOptions } from './replicas/start-streaming-replica.ts';
export { stopPostgresCluster, type StopClusterOptions } from './replicas/stop-postgres-cluster.ts';
export { removeStreamingReplica } from './replicas/remove-streaming-replica.ts';
export { checkReplicationAccess } from './replicas/check-replication-access.ts';
export { replicaDataDir, replicationSlotName, REPLICA_NAME_PATTERN } from './replicas/replica-paths.ts';
