import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ServiceSpec } from './service-process.ts';

const PACKAGES_DIR = fileURLToPath(new URL('../../../', import.meta.url));

/** The four Strata processes, each run the way `pnpm --filter ./packages/<name> start` runs it. */
export function stackServices(): ServiceSpec[] {
  const service = (name: string, args: string[] = []): ServiceSpec => ({
    name,
    script: `${PACKAGES_DIR}${name}/src/main.ts`,
    args,
    cwd: `${PACKAGES_DIR}${name}`,
  });
  return [service('command-api'), service('projector'), service('query-api'), service('ops', ['serve'])];
}

/** Splits services into those whose entry point exists and those not written yet. */
export function partitionByPresence(specs: ServiceSpec[]): { present: ServiceSpec[]; missing: ServiceSpec[] } {
  return {
    present: specs.filter((spec) => existsSync(spec.script)),
    missing: specs.filter((spec) => !existsSync(spec.script)),
  };
}
