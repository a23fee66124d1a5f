import { createHttpServer } from '@strata/core';
import type { Teardownable } from '@strata/testkit';
import { registerGetGroupSeriesRoute } from '../../src/routes/get-group-series-route.ts';
import { registerGetGroupTotalRoute } from '../../src/routes/get-group-total-route.ts';
import { registerGetGroupsRoute } from '../../src/routes/get-groups-route.ts';
import { registerTenantScope } from '../../src/routes/register-tenant-scope.ts';
import { buildTestApp, type TestApp } from '../helpers.ts';

/**
 * The real query-api (buildTestApp) with the group routes. Until app.ts registers them, they are
 * registered here on an app composed as app.ts composes /v1 (same deps, same tenant scope: auth,
 * rate limit, text checks, device-bound keys), so the tests run unchanged once they are wired.
 */
export async function buildGroupTestApp(t: Teardownable, overrides: Parameters<typeof buildTestApp>[1] = {}): Promise<TestApp> {
  const test = await buildTestApp(t, overrides);
  if (test.app.hasRoute({ method: 'GET', url: '/v1/groups/:label' })) return test;
  const { deps } = test;
  const app = createHttpServer(deps.logger, { limits: deps.config });
  await app.register(
    async (v1) => {
      await registerTenantScope(v1, deps);
      registerGetGroupsRoute(v1, deps);
      registerGetGroupSeriesRoute(v1, deps);
      registerGetGroupTotalRoute(v1, deps);
    },
    { prefix: '/v1' },
  );
  await app.ready();
  t.teardown(() => app.close());
  return { ...test, app };
}
