import { join, resolve } from 'node:path';

/** Replica names become directory and slot names, so they are kept to a safe alphabet. */
export const REPLICA_NAME_PATTERN = /^[a-z0-9_]{1,40}$/;

/** Where a development replica named `name` keeps its data: `<dataDir>/replicas/<name>`. */
export function replicaDataDir(strataDataDir: string, name: string): string {
  return resolve(join(strataDataDir, 'replicas', name));
}

/**
 * The physical replication slot a replica streams from. The slot makes the primary keep WAL the
 * replica has not received yet, so a paused or stopped replica catches up instead of breaking;
 * the price is that a replica abandoned without `--remove` holds WAL on the primary.
 */
export function replicationSlotName(name: string): string {
  return `strata_replica_${name}`;
}
