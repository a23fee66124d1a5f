// Boundaries between the workspace packages, and no cycles between folders (decision 0069). Runs in
// `pnpm typecheck`. Type-only imports count: a service that borrows another's type is coupled to it.

/** @type {import('dependency-cruiser').IConfiguration} */
export default {
  forbidden: [
    {
      name: 'service-imports-only-core',
      comment:
        'Services share contracts through @strata/core, never code paths: command-api, projector and query-api import no other workspace package.',
      severity: 'error',
      from: { path: '^packages/(command-api|projector|query-api)/src/' },
      to: { path: '^packages/', pathNot: '^packages/($1|core)/src/' },
    },
    {
      name: 'ops-imports-only-core-and-devstack',
      comment: 'ops may also start private servers and replicas (`pnpm start`, `pnpm ops replica`), nothing else.',
      severity: 'error',
      from: { path: '^packages/ops/src/' },
      to: { path: '^packages/', pathNot: '^packages/(ops|core|devstack)/src/' },
    },
    {
      name: 'core-imports-no-workspace-package',
      comment: 'Every service loads core; core depends on none of them.',
      severity: 'error',
      from: { path: '^packages/core/src/' },
      to: { path: '^packages/', pathNot: '^packages/core/src/' },
    },
    {
      name: 'devstack-imports-only-core',
      comment: 'ops depends on devstack, so devstack must not depend on ops or any other service.',
      severity: 'error',
      from: { path: '^packages/devstack/src/' },
      to: { path: '^packages/', pathNot: '^packages/(devstack|core)/src/' },
    },
    {
      name: 'no-testkit-in-src',
      comment: 'The testkit is for tests and the bench; production code never loads it.',
      severity: 'error',
      from: { path: '^packages/[^/]+/src/', pathNot: '^packages/testkit/' },
      to: { path: '^packages/testkit/' },
    },
    {
      name: 'tests-reach-other-services-through-testkit',
      comment:
        "A package's tests use another service's code only through @strata/testkit (seeding, launchers, the ops CLI), so one place depends on those internals.",
      severity: 'error',
      from: { path: '^packages/(command-api|projector|query-api|ops|core)/test/' },
      to: { path: '^packages/(command-api|projector|query-api|ops)/src/', pathNot: '^packages/$1/src/' },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'An import the check cannot resolve is one it cannot judge (e.g. a service package that exports nothing).',
      severity: 'error',
      from: { path: '^packages/' },
      to: { couldNotResolve: true },
    },
    {
      name: 'no-folder-cycles',
      comment:
        'Folders depend one way: a shared type belongs in a lower folder (e.g. query-api model/), not in one of two folders that import each other.',
      severity: 'error',
      scope: 'folder',
      from: { path: '^packages/' },
      to: { circular: true },
    },
    {
      name: 'no-module-cycles',
      severity: 'error',
      from: { path: '^packages/' },
      to: { circular: true },
    },
  ],
  options: {
    // @strata/* resolve to the packages' own files (the symlinks' real paths); third-party packages
    // are leaves, not followed. No includeOnly: it would also hide imports that do not resolve.
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'default'] },
  },
};
