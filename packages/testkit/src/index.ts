// @strata/testkit: what tests (and the bench) need around the real code: a migrated database and a
// Redis prefix per test file, tenants to act as. Never imported by any package's src/ (decision 0069).
export { createTestEnvironment, type TestEnvironment, type Teardownable } from './create-test-environment.ts';
export { deleteKeysWithPrefix } from './delete-keys-with-prefix.ts';

// Migrating and creating tenants are ops' work in production (`pnpm ops migrate`, `pnpm ops tenant
// create`); tests reach that same code through here rather than depending on ops themselves.
export { runMigrations } from '@strata/ops/run-migrations';
export { ensureDatabase } from '@strata/ops/ensure-database';
export { createTenant } from '@strata/ops/create-tenant';
