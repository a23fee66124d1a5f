import { isoTime } from '../model/iso-time.ts';
import type { LatestState } from '../model/latest-state.ts';
import { emptyValueState } from '../model/value-state.ts';
import type { StateWithStaged } from '../queries/select-state-with-staged.ts';
import { mergeValueState, valueStateOf, valuesOf } from './merge-value-state.ts';

/** device_state with the still-staged events folded in by the same per-value rule as the projector. */
export function mergeStagedRows(device: string, rows: StateWithStaged): LatestState | undefined {
  if (rows.state === undefined && rows.staged.length === 0) return undefined;
  let state = rows.state?.state ?? emptyValueState();
  let tsMs = rows.state ? Date.parse(rows.state.ts) : Number.NEGATIVE_INFINITY;
  let updatedMs = rows.state ? Date.parse(rows.state.updatedAt) : Number.NEGATIVE_INFINITY;
  for (const staged of rows.staged) {
    const eventMs = Date.parse(staged.ts);
    state = mergeValueState(state, valueStateOf(staged.values, eventMs));
    tsMs = Math.max(tsMs, eventMs);
    updatedMs = Math.max(updatedMs, Date.parse(staged.receivedAt));
  }
  return { device, ts: isoTime(tsMs), values: valuesOf(state), updatedAt: isoTime(updatedMs) };
}
