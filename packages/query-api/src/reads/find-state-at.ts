import type { Queryable } from '@strata/core';
import { selectStateWithStaged } from '../queries/select-state-with-staged.ts';
import { selectValueState } from '../queries/select-value-state.ts';
import { selectValuesAt } from '../queries/select-values-at.ts';
import { isoTime } from '../model/iso-time.ts';
import { emptyValueState, type ValueState } from '../model/value-state.ts';
import { mergeValueState, valueStateOf } from './merge-value-state.ts';

const HOUR_MS = 3_600_000;
/**
 * History is searched backwards in growing, non-overlapping windows below `at`, only for the keys
 * still unanswered: a device that reports often is answered from the last hour's rows, and the
 * whole search never reads a row twice. The last window is unbounded (retention bounds history).
 */
const WINDOWS_MS = [HOUR_MS, 24 * HOUR_MS, 7 * 24 * HOUR_MS, Number.POSITIVE_INFINITY];

/**
 * A device's state as of `atMs` on one database, undefined when the device is unknown: per value key, the newest value with event time <= at. The latest state
 * answers every key whose newest value is not after `at` (the newest overall is then the newest up
 * to `at`, even when its history has expired); only the other keys are looked up in history. When the
 * chosen source says so (the primary, for a strong or token read), the still-staged events are folded in.
 */
export async function findStateAt(
  db: Queryable,
  includeStaged: boolean,
  query: { tenantId: string; device: string; atMs: number },
): Promise<ValueState | undefined> {
  let latest: ValueState | undefined;
  let staged = emptyValueState();
  if (includeStaged) {
    const rows = await selectStateWithStaged(db, query.tenantId, query.device);
    latest = rows.state?.state;
    for (const row of rows.staged) {
      const ms = Date.parse(row.ts);
      if (ms <= query.atMs) staged = mergeValueState(staged, valueStateOf(row.values, ms));
    }
    if (latest === undefined && rows.staged.length === 0) return undefined;
  } else {
    latest = await selectValueState(db, query.tenantId, query.device);
    if (latest === undefined) return undefined;
  }
  const state = emptyValueState();
  let pending: string[] = [];
  for (const [key, entry] of Object.entries(latest ?? emptyValueState())) {
    if (entry.t <= query.atMs) state[key] = entry;
    else pending.push(key);
  }
  let upper = query.atMs;
  for (const width of WINDOWS_MS) {
    if (pending.length === 0) break;
    const lower = query.atMs - width;
    const rows = await selectValuesAt(db, {
      tenantId: query.tenantId,
      device: query.device,
      after: Number.isFinite(lower) ? isoTime(lower) : '-infinity',
      upTo: isoTime(upper),
      keys: pending,
    });
    for (const row of rows) state[row.key] = { v: row.value, t: row.t };
    pending = pending.filter((key) => state[key] === undefined);
    upper = lower;
  }
  return mergeValueState(state, staged);
}
