import { setOwnKey, type Labels } from '@strata/core';
import type { StateWithStaged } from '../queries/select-state-with-staged.ts';

/**
 * The labels in force with staged events' labels laid over them (strong reads): per label the newest
 * sample wins; on equal times the larger text by UTF-8 bytes (the database's C collation), a removal
 * losing to any value, as the fold decides (decision 0074). A label named `__proto__` is an own key
 * like any other.
 */
export function mergeStagedLabels(rows: Pick<StateWithStaged, 'labels' | 'staged'>): Labels {
  const samples = new Map(rows.labels);
  for (const staged of rows.staged) {
    if (!staged.labels) continue;
    const ms = Date.parse(staged.ts);
    for (const [name, value] of Object.entries(staged.labels)) {
      const current = samples.get(name);
      if (!current || ms > current.ms || (ms === current.ms && (current.value === null || Buffer.compare(Buffer.from(value), Buffer.from(current.value)) > 0))) {
        samples.set(name, { value, ms });
      }
    }
  }
  const labels: Labels = {};
  for (const [name, sample] of [...samples].sort(([a], [b]) => Buffer.compare(Buffer.from(a), Buffer.from(b)))) {
    if (sample.value !== null) setOwnKey(labels, name, sample.value);
  }
  return labels;
}
