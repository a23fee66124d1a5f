import type { Consistency } from './consistency.ts';

/** What the client asked for, after validation. */
export interface ReadOptions {
  consistency: Consistency;
  /** Batch id from the `after` token: the read must reflect that batch. */
  afterBatchId: string | undefined;
  maxStalenessMs: number;
}
