import { randomUUID } from 'node:crypto';
import { redisKeys, type Config, type EventValues, type Pool, type Redis } from '@strata/core';
import { createTenant, createTestEnvironment } from '@strata/testkit';
import type { FastifyInstance } from 'fastify';
import { closeQueryDeps, createQueryDeps, type QueryDeps, type QueryDepsOverrides } from '../src/deps.ts';
import { startQueryApi } from '../src/service.ts';

interface Test {
  teardown(fn: () => unknown): void;
}

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
export async function buildTestApp(t: Test, overrides: Partial<Config> = {}, depsOverrides: Partial<QueryDepsOverrides> = {}): Promise<TestApp> {
  const { config } = await createTestEnvironment(t, { host: '127.0.0.1', queryApiPort: 0, ...overrides });
  return startTestService(t, config, depsOverrides);
}

/** startQueryApi on `config` (whose queryApiPort should be 0), stopped and closed at teardown. */
export async function startTestService(t: Test, config: Config, depsOverrides: Partial<QueryDepsOverrides> = {}): Promise<TestApp> {
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
  return { status: response.statusCode, headers: response.headers, body: response.json() as any };
}

/** A device_state row as the projector would write it: each value stamped with its event time. */
export async function seedDeviceState(
  pool: Pool,
  row: { tenant: string; device: string; values: Record<string, { v: unknown; t: number }>; updatedAt?: number; version?: number },
): Promise<void> {
  const ts = Math.max(...Object.values(row.values).map((entry) => entry.t));
  await pool.query(
    `INSERT INTO device_state (tenant_id, device, ts, state, "values", updated_at, version)
     VALUES ($1, $2, $3, $4, value_state_values($4), $5, $6)`,
    [row.tenant, row.device, new Date(ts).toISOString(), JSON.stringify(row.values), new Date(row.updatedAt ?? ts).toISOString(), row.version ?? 1],
  );
}

export interface SeedEvent {
  ts: number;
  key: string;
  type?: string;
  values: EventValues;
}

export async function seedEvents(pool: Pool, tenant: string, device: string, events: SeedEvent[]): Promise<void> {
  await pool.query(
    `INSERT INTO events (tenant_id, device, ts, event_key, type, "values")
     SELECT $1, $2, e.ts, e.key, e.type, e.values
       FROM unnest($3::timestamptz[], $4::text[], $5::text[], $6::jsonb[]) AS e(ts, key, type, values)`,
    [
      tenant,
      device,
      events.map((e) => new Date(e.ts).toISOString()),
      events.map((e) => e.key),
      events.map((e) => e.type ?? 'reading'),
      events.map((e) => JSON.stringify(e.values)),
    ],
  );
}

export async function seedStaged(pool: Pool, tenant: string, device: string, events: SeedEvent[], batchId = randomUUID()): Promise<string> {
  for (const e of events) {
    await pool.query(
      `INSERT INTO staging_events (batch_id, tenant_id, device, event_key, ts, type, "values") VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [batchId, tenant, device, e.key, new Date(e.ts).toISOString(), e.type ?? 'reading', JSON.stringify(e.values)],
    );
  }
  return batchId;
}

export interface RollupRow {
  valueKey: string;
  bucket: number;
  count: number;
  sum: number;
  min: number;
  max: number;
  last: number;
  lastTs: number;
}

/** One-minute rollups of raw events, computed independently of the projector (numbers only). */
export function computeRollups(events: SeedEvent[]): RollupRow[] {
  const rows = new Map<string, RollupRow>();
  for (const e of events) {
    for (const [valueKey, v] of Object.entries(e.values)) {
      if (typeof v !== 'number') continue;
      const bucket = Math.floor(e.ts / 60_000) * 60_000;
      const id = `${valueKey}@${bucket}`;
      const row = rows.get(id);
      if (!row) {
        rows.set(id, { valueKey, bucket, count: 1, sum: v, min: v, max: v, last: v, lastTs: e.ts });
        continue;
      }
      row.count += 1;
      row.sum += v;
      row.min = Math.min(row.min, v);
      row.max = Math.max(row.max, v);
      if (e.ts > row.lastTs) Object.assign(row, { last: v, lastTs: e.ts });
    }
  }
  return [...rows.values()];
}

export async function seedRollups(pool: Pool, tenant: string, device: string, rows: RollupRow[]): Promise<void> {
  await pool.query(
    `INSERT INTO rollups_1m (tenant_id, device, value_key, bucket, count, sum, min, max, last, last_ts)
     SELECT $1, $2, r.* FROM unnest($3::text[], $4::timestamptz[], $5::bigint[], $6::float8[], $7::float8[], $8::float8[], $9::float8[], $10::timestamptz[])
       AS r(value_key, bucket, count, sum, min, max, last, last_ts)`,
    [
      tenant,
      device,
      rows.map((r) => r.valueKey),
      rows.map((r) => new Date(r.bucket).toISOString()),
      rows.map((r) => r.count),
      rows.map((r) => r.sum),
      rows.map((r) => r.min),
      rows.map((r) => r.max),
      rows.map((r) => r.last),
      rows.map((r) => new Date(r.lastTs).toISOString()),
    ],
  );
  // The hourly and daily levels, exactly as the projection keeps them beside the minutes.
  await pool.query(
    `INSERT INTO rollups_1h (tenant_id, device, value_key, bucket, count, sum, min, max, last, last_ts)
     SELECT tenant_id, device, value_key, date_bin('1 hour', bucket, TIMESTAMPTZ '1970-01-01 00:00:00+00'), sum(count), sum(sum), min(min), max(max),
            (array_agg(last ORDER BY last_ts DESC))[1], max(last_ts)
       FROM rollups_1m WHERE tenant_id = $1 AND device = $2
      GROUP BY 1, 2, 3, 4
     ON CONFLICT (tenant_id, device, value_key, bucket) DO UPDATE SET
       count = excluded.count, sum = excluded.sum, min = excluded.min, max = excluded.max, last = excluded.last, last_ts = excluded.last_ts`,
    [tenant, device],
  );
  await pool.query(
    `INSERT INTO rollups_1d (tenant_id, device, value_key, bucket, count, sum, min, max, last, last_ts)
     SELECT tenant_id, device, value_key, date_bin('1 day', bucket, TIMESTAMPTZ '1970-01-01 00:00:00+00'), sum(count), sum(sum), min(min), max(max),
            (array_agg(last ORDER BY last_ts DESC))[1], max(last_ts)
       FROM rollups_1h WHERE tenant_id = $1 AND device = $2
      GROUP BY 1, 2, 3, 4
     ON CONFLICT (tenant_id, device, value_key, bucket) DO UPDATE SET
       count = excluded.count, sum = excluded.sum, min = excluded.min, max = excluded.max, last = excluded.last, last_ts = excluded.last_ts`,
    [tenant, device],
  );
}

/** The cache entry as the projector writes it (HASH: v = version, b = JSON body). */
export async function seedCache(
  redis: Redis,
  prefix: string,
  tenant: string,
  body: { device: string; ts: string; values: EventValues; updatedAt: string },
  version = 1,
): Promise<void> {
  await redis.hset(redisKeys.deviceState(prefix, tenant, body.device), { v: String(version), b: JSON.stringify(body) });
}
