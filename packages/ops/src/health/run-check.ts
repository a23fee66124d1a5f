import { withTimeout } from '@strata/core';
import type { CheckResult } from './health-report.ts';

/**
 * Runs one check under a time limit and turns a throw or a timeout into `ok: false` with the
 * reason; a hanging dependency must make the report say so, not make the report hang.
 */
export async function runCheck(timeoutMs: number, check: () => Promise<CheckResult>): Promise<CheckResult> {
  try {
    return await withTimeout(check(), timeoutMs);
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message || error.name : String(error) };
  }
}

/** Milliseconds a promise took, with its value. */
export async function timed<T>(work: () => Promise<T>): Promise<{ value: T; latencyMs: number }> {
  const start = performance.now();
  const value = await work();
  return { value, latencyMs: Math.round((performance.now() - start) * 10) / 10 };
}
