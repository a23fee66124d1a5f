import { setTimeout as sleep } from 'node:timers/promises';
import type { FaultWorld } from './fault-world.ts';
import type { FaultEvent } from './workload.ts';
import type { WriteLog } from './writers.ts';

export interface Tally {
  accepted: number;
  stored: number;
  duplicated: number;
  lost: number;
  /** Stored events no writer saw acknowledged (a writer gave up on a request that did land). */
  unacknowledgedStored: number;
  rollupMismatches: number;
  stateMismatches: number;
  /** Staged rows left once every acknowledged batch is applied: must be none. */
  stranded: number;
  drainMs: number;
}

/**
 * Waits until every acknowledged batch is applied, then compares the stores with an oracle built
 * only from the acknowledged events: history membership, rollup count and sum per device, and the
 * latest value per key (newest event time) per device.
 */
export async function verifyAgainstOracle(world: FaultWorld, tenant: string, log: WriteLog, timeoutMs: number): Promise<Tally> {
  const started = Date.now();
  const batchIds = [...log.batchIds];
  for (;;) {
    const [applied] = await world.query<{ n: number }>('SELECT count(*)::int AS n FROM applied_batches WHERE batch_id = ANY($1::uuid[])', [batchIds]);
    const [staged] = await world.query<{ n: number }>('SELECT count(*)::int AS n FROM staging_events WHERE tenant_id = $1', [tenant]);
    // The rollups compared below are materialized by the projectors' aggregate refresher (decision
    // 0060): wait until it has taken every noted minute (the workload's events are hours old).
    const [noted] = await world.query<{ n: number }>('SELECT count(*)::int AS n FROM aggregate_dirty WHERE tenant_id = $1', [tenant]);
    if (applied?.n === batchIds.length && staged?.n === 0 && noted?.n === 0) break;
    if (Date.now() - started > timeoutMs) break;
    await sleep(250);
  }
  const drainMs = Date.now() - started;

  const acked = [...log.acked.values()];
  const history = await world.query<{ event_key: string }>('SELECT event_key FROM tenant_events WHERE tenant_id = $1', [tenant]);
  const keys = new Set(history.map((row) => row.event_key));
  const stored = acked.filter((event) => keys.has(`i:${event.id}`)).length;
  const ackedKeys = new Set(acked.map((event) => `i:${event.id}`));
  const [counted] = await world.query<{ n: number }>(`SELECT coalesce(sum(count), 0)::int AS n FROM rollups_1m WHERE tenant_id = $1 AND value_key = 'v'`, [tenant]);
  const [staged] = await world.query<{ n: number }>('SELECT count(*)::int AS n FROM staging_events WHERE tenant_id = $1', [tenant]);
  return {
    accepted: acked.length,
    stored,
    // History's key makes a second copy impossible; a double projection would show as a rollup counted twice.
    duplicated: Math.max(0, (counted?.n ?? 0) - history.length) + (history.length - keys.size),
    lost: acked.length - stored,
    unacknowledgedStored: [...keys].filter((key) => !ackedKeys.has(key)).length,
    rollupMismatches: await compareRollups(world, tenant, acked),
    stateMismatches: await compareStates(world, tenant, acked),
    stranded: staged?.n ?? 0,
    drainMs,
  };
}

async function compareRollups(world: FaultWorld, tenant: string, acked: FaultEvent[]): Promise<number> {
  const oracle = new Map<string, { count: number; sum: number }>();
  for (const event of acked) {
    const entry = oracle.get(event.device) ?? { count: 0, sum: 0 };
    entry.count++;
    entry.sum += event.values.v as number;
    oracle.set(event.device, entry);
  }
  const rows = await world.query<{ device: string; count: number; sum: number }>(
    `SELECT device, sum(count)::int AS count, sum(sum)::float8 AS sum FROM rollups_1m WHERE tenant_id = $1 AND value_key = 'v' GROUP BY device`,
    [tenant],
  );
  let mismatches = Math.abs(rows.length - oracle.size);
  for (const row of rows) {
    const want = oracle.get(row.device);
    if (!want || want.count !== row.count || want.sum !== row.sum) mismatches++;
  }
  return mismatches;
}

async function compareStates(world: FaultWorld, tenant: string, acked: FaultEvent[]): Promise<number> {
  const oracle = new Map<string, Map<string, { value: unknown; ts: number }>>();
  for (const event of acked) {
    const state = oracle.get(event.device) ?? new Map<string, { value: unknown; ts: number }>();
    for (const [key, value] of Object.entries(event.values)) {
      const current = state.get(key);
      if (!current || event.ts > current.ts) state.set(key, { value, ts: event.ts });
    }
    oracle.set(event.device, state);
  }
  const rows = await world.query<{ device: string; values: Record<string, unknown> }>('SELECT device, "values" FROM device_state WHERE tenant_id = $1', [tenant]);
  let mismatches = Math.abs(rows.length - oracle.size);
  for (const row of rows) {
    const want = oracle.get(row.device);
    const expected = want ? Object.fromEntries([...want].map(([key, entry]) => [key, entry.value])) : undefined;
    if (JSON.stringify(sortKeys(row.values)) !== JSON.stringify(sortKeys(expected ?? {}))) mismatches++;
  }
  return mismatches;
}

function sortKeys(values: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(values).sort(([a], [b]) => a.localeCompare(b)));
}
