import type { Queryable } from '@strata/core';

// One statement on the replica, so every figure describes the same instant. Both ages are upper
// bounds on how stale the replica's data is (everything committed before the heartbeat's beat_at,
// and before the last replayed commit, has been replayed); `caught_up` compares the replay position
// with the primary's WAL insert position read just before, which covers every commit made by then.
const SQL = `
  SELECT pg_is_in_recovery() AS in_recovery,
         pg_last_wal_replay_lsn()::text AS replay_lsn,
         coalesce(pg_last_wal_replay_lsn() >= $1::pg_lsn, false) AS caught_up,
         (extract(epoch FROM clock_timestamp() - h.beat_at) * 1000)::float8 AS heartbeat_age_ms,
         (extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp()) * 1000)::float8 AS replay_age_ms
    FROM replication_heartbeat h
   WHERE h.id = 1`;

interface Row {
  in_recovery: boolean;
  replay_lsn: string | null;
  caught_up: boolean;
  heartbeat_age_ms: number | null;
  replay_age_ms: number | null;
}

export interface ReplicaProgress {
  inRecovery: boolean;
  replayLsn: string | null;
  caughtUp: boolean;
  heartbeatAgeMs: number | undefined;
  replayAgeMs: number | undefined;
}

/** How far a replica has replayed; `primaryLsn` null when the primary could not be asked. */
export async function selectReplicaProgress(db: Queryable, primaryLsn: string | null): Promise<ReplicaProgress> {
  const result = await db.query<Row>({ name: 'query-select-replica-progress', text: SQL, values: [primaryLsn] });
  const row = result.rows[0];
  if (!row) throw new Error('replication_heartbeat row is missing on the replica');
  return {
    inRecovery: row.in_recovery,
    replayLsn: row.replay_lsn,
    caughtUp: row.caught_up,
    heartbeatAgeMs: row.heartbeat_age_ms ?? undefined,
    replayAgeMs: row.replay_age_ms ?? undefined,
  };
}
