/**
 * What one health check found: `ok: false` carries the reason in `error`; the other fields are its
 * details (latency, counts). Readiness probes answer with the reason only; `ops health` prints it all.
 */
export interface CheckResult {
  ok: boolean;
  error?: string;
  [detail: string]: unknown;
}

/** One check of a dependency. It may also throw: runCheck turns a throw into `ok: false`. */
export type HealthCheck = () => Promise<CheckResult>;
