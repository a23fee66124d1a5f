import { withTimeout } from '../time/with-timeout.ts';
import type { CheckResult, HealthCheck } from './check-result.ts';

/**
 * Runs one check under a time limit and turns a throw or a timeout into `ok: false` with the
 * reason: a dependency that hangs is as bad as one that is down, and must make the answer say so,
 * not make the answer hang.
 */
export async function runCheck(check: HealthCheck, timeoutMs: number): Promise<CheckResult> {
  try {
    return await withTimeout(check(), timeoutMs);
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message || error.name : String(error) };
  }
}
