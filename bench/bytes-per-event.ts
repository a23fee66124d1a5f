import { total, type TableSizes } from './measure-table-sizes.ts';

/** Staging is a queue, empty once drained; its pages are reused rather than kept per event. */
const TRANSIENT = new Set(['staging_events']);

export interface BytesPerEvent {
  /** All tables but staging: history, aggregates, state, counters, bookkeeping, every index. */
  allIn: number;
  /** Per table, bytes per event, largest first. */
  byTable: Record<string, number>;
  /** Growth of staging over the workload, per event (reported, not counted in allIn). */
  staging: number;
}

/** What the workload's `events` added to disk, per event, from the schema's sizes before and after. */
export function bytesPerEvent(before: TableSizes, after: TableSizes, events: number): BytesPerEvent {
  const grown: TableSizes = {};
  for (const [name, bytes] of Object.entries(after)) grown[name] = bytes - (before[name] ?? 0);
  const kept = Object.fromEntries(Object.entries(grown).filter(([name]) => !TRANSIENT.has(name)));
  const byTable = Object.fromEntries(
    Object.entries(kept)
      .filter(([, bytes]) => bytes !== 0)
      .sort((a, b) => b[1] - a[1])
      .map(([name, bytes]) => [name, Math.round((bytes / events) * 10) / 10]),
  );
  return { allIn: total(kept) / events, byTable, staging: (grown.staging_events ?? 0) / events };
}
