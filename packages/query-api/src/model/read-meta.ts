import type { Consistency } from './consistency.ts';

/** What every response carries in `meta` and in the `X-Read-*` headers. */
export interface ReadMeta {
  source: string;
  consistency: Consistency;
  lagMs: number;
}
