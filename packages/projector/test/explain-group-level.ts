/*
 * EXPLAIN ANALYZE of one group coarse-level statement on a kept measurement database (rolled back).
 *   pnpm exec node packages/projector/test/explain-group-level.ts <database> <hour|day> <bucket ISO> [label value key]
 * Not a test.
 */
import pg from 'pg';
import { replaceCoarserGroupRollups } from '../src/queries/replace-coarser-group-rollups.ts';

const [database, level, bucket, label = 'fleet', value = 'bench', key = 'power'] = process.argv.slice(2);
const client = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:5432/${database}` });
await client.connect();
const tenant = (await client.query<{ id: string }>('SELECT DISTINCT tenant_id AS id FROM tenant_events LIMIT 1')).rows[0]?.id ?? '';
await client.query('BEGIN');
const explaining = {
  query: async (config: { text: string; values: unknown[] }) => {
    const plan = await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) ${config.text}`, config.values);
    console.log(plan.rows.map((r) => r['QUERY PLAN']).join('\n'));
    return { rows: [] };
  },
};
await replaceCoarserGroupRollups(explaining as never, { tenantId: tenant, level: level as 'hour' | 'day', touched: [{ label, labelValue: value, valueKey: key, bucket: bucket ?? '' }] });
await client.query('ROLLBACK');
await client.end();
