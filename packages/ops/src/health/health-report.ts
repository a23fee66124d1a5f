/** One line of the health report; `ok: false` makes the whole report (and `ops health`) unhealthy. */
export interface CheckResult {
  ok: boolean;
  error?: string;
  [detail: string]: unknown;
}

export interface HealthReport {
  status: 'ok' | 'unhealthy';
  checkedAt: string;
  checks: Record<string, CheckResult>;
}
