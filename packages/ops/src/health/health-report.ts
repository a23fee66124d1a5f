import type { CheckResult } from '@strata/core';

/** The report of `ops health` and `GET /health`: unhealthy when any check is `ok: false`. */
export interface HealthReport {
  status: 'ok' | 'unhealthy';
  checkedAt: string;
  checks: Record<string, CheckResult>;
}
