import type { Teardownable } from '@strata/testkit';
import { buildTestApp, newTenant } from '../helpers.ts';

const MINUTE = 60_000;
const DAY = 86_400_000;

/**
 * A query API and a tenant for the group-heads tests (decision 0085): `m` is the minute ten minutes
 * back, which plays the open minute (the refresher's clock is the test's), and `from`/`to` the day on
 * either side of it that the reads ask for.
 */
export async function openMinuteApp(t: Teardownable) {
  const { app, deps } = await buildTestApp(t);
  const { tenant, apiKey } = await newTenant(deps.pool);
  const m = Math.floor((Date.now() - 10 * MINUTE) / MINUTE) * MINUTE;
  return { app, deps, tenant, apiKey, m, from: new Date(m - DAY).toISOString(), to: new Date(m + DAY).toISOString() };
}
