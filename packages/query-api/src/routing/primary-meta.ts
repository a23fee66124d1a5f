import type { ReadMeta, ReadOptions } from './consistency.ts';

/**
 * Meta for reads that only the primary serves so far (lists, history, series): the primary is
 * never behind itself, so every consistency level is met there, with no lag.
 */
export function primaryMeta(options: ReadOptions): ReadMeta {
  return { source: 'primary', consistency: options.consistency, lagMs: 0 };
}
