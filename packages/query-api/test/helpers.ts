import type { Config, Pool } from '@strata/core';
import { createTenant, createTestEnvironment, type Teardownable } from '@strata/testkit';
import type { FastifyInstance } from 'fastify';
import { closeQueryDeps, createQueryDeps, type QueryDeps, type QueryDepsOverrides } from '../src/deps.ts';
import { startQueryApi } from '../src/service.ts';
import fastJsonStringify from 'fast-json-stringify';

export interface TestApp {
  app: FastifyInstance;
  deps: QueryDeps;
  config: Config;
  /** Where the app listens (an ephemeral port on 127.0.0.1). */
  port: number;
}

/**
 * The real service (startQueryApi: background work started, listening on an ephemeral port) on a
 * fresh database and Redis prefix, stopped and its deps closed at teardown.
 */
export async function buildTestApp(t: Teardownable, overrides: Partial<Config> = {}, depsOverrides: Partial<QueryDepsOverrides> = {}): Promise<TestApp> {
  const { config } = await createTestEnvironment(t, { host: '127.0.0.1', queryApiPort: 0, ...overrides });
  return startTestService(t, config, depsOverrides);
}

/** startQueryApi on `config` (whose queryApiPort should be 0), stopped and closed at teardown. */
export async function startTestService(t: Teardownable, config: Config, depsOverrides: Partial<QueryDepsOverrides> = {}): Promise<TestApp> {
  const deps = createQueryDeps(config, depsOverrides);
  const service = await startQueryApi(deps).catch(async (error: unknown) => {
    await closeQueryDeps(deps);
    throw error;
  });
  t.teardown(async () => {
    await service.stop();
    await closeQueryDeps(deps);
  });
  return { app: service.app, deps, config, port: (service.app.server.address() as { port: number }).port };
}

export async function newTenant(pool: Pool, name = 'tenant'): Promise<{ tenant: string; apiKey: string }> {
  return createTenant(pool, name);
}

/** GET with a bearer key; returns status, headers and the parsed body. */
export async function get(app: FastifyInstance, url: string, apiKey: string | undefined, headers: Record<string, string> = {}) {
  const response = await app.inject({
    method: 'GET',
    url,
    headers: { ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}), ...headers },
  });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- test bodies are asserted field by field
  return { status: response.statusCode, headers: response.headers, body: response.json() as any, text: response.payload };
}

/**
 * The serializer Fastify compiles from a response schema (fast-json-stringify, at fastify's own version:
 * pnpm-workspace.yaml): what a route that writes its body as text (decision 0099) must write, byte for byte.
 */
export function schemaSerializer(schema: object): (body: unknown) => string {
  return fastJsonStringify(schema) as (body: unknown) => string;
}
