import type { ReadSource } from './read-source.ts';

/** One source in a read's fallback chain, as chooseSources decided it. */
export interface SourceCandidate {
  source: ReadSource;
  /** The lag to report if this source answers. */
  lagMs: number;
  /** Set on a replica whose applying of the token is unknown: check it there before reading. */
  verifyAfter?: string;
  /**
   * Whether the read must reflect still-staged (not yet projected) events: latest state folds them
   * in, other reads wait until they are projected (decision 0104). Only the
   * primary holds staging (UNLOGGED tables are not replicated), so only it can honour a strong read or
   * a token for a batch still staged; merging staging there costs what the strong read costs, without
   * first asking whether the batch was applied. Decided here, once; reads never re-derive it.
   */
  includeStaged: boolean;
}
