import { ThrottledLogger, type Logger } from '@strata/core';

export interface SourceErrorLog {
  note(source: string, error: unknown): void;
}

/**
 * Logs failures of optional sources (replicas, the cache) at most once per source every few
 * seconds: a dead replica under load would otherwise write a line per read.
 */
export function createSourceErrorLog(logger: Logger, intervalMs = 5000): SourceErrorLog {
  const log = new ThrottledLogger(logger, intervalMs);
  return {
    note(source, error) {
      log.warn(source, { err: error, source }, 'read source failed; the read moved on to the next source');
    },
  };
}
