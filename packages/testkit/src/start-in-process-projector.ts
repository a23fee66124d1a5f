import type { Config } from '@strata/core';
import { closeProjectorDeps, createProjectorDeps } from '@strata/projector/deps';
import { startProjector } from '@strata/projector/service';
import type { Teardownable } from './create-test-environment.ts';

/**
 * The real projector (worker, refresher, probe server) in this process on `config`, for another
 * service's tests that need their writes projected; stopped and its deps closed at teardown.
 */
export async function startInProcessProjector(t: Teardownable, config: Config): Promise<void> {
  const deps = createProjectorDeps(config);
  const projector = await startProjector(deps).catch(async (error: unknown) => {
    await closeProjectorDeps(deps);
    throw error;
  });
  t.teardown(async () => {
    await projector.stop();
    await closeProjectorDeps(deps);
  });
}
