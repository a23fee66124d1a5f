import type pg from 'pg';
import type { Queryable } from '@strata/core';

/** A node of a plan from EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON). */
export interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  /** A CTE Scan's CTE. */
  'CTE Name'?: string;
  'Index Name'?: string;
  'Actual Loops'?: number;
  'Actual Rows'?: number;
  /** Per loop, as EXPLAIN reports it. */
  'Rows Removed by Join Filter'?: number;
  /** Per loop, as EXPLAIN reports it. */
  'Rows Removed by Filter'?: number;
  /** An INSERT … ON CONFLICT's new rows. */
  'Tuples Inserted'?: number;
  'Shared Hit Blocks'?: number;
  'Shared Read Blocks'?: number;
  Plans?: PlanNode[];
}

/** Every node of a plan, the root first. */
export function planNodes(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(planNodes)];
}

/** Scans that read a key's own rows, however often they run: a probe per outer row is linear. */
const INDEX_SCANS = new Set(['Index Scan', 'Index Only Scan', 'Bitmap Heap Scan', 'Bitmap Index Scan']);

/**
 * Nodes of a plan that do rows × rows work (decision 0095): a node other than an index scan that is
 * re-run over 100 times and reads over a million rows in all (a CTE, a materialized set or a subquery
 * scanned whole once per outer row), or a join that compared and discarded over a million row pairs.
 * Meant for plans of fixtures of thousands of rows, where linear work stays far below both bounds.
 */
export function quadraticNodes(nodes: PlanNode[]): string[] {
  return nodes
    .filter((node) => {
      const loops = node['Actual Loops'] ?? 1;
      const read = ((node['Actual Rows'] ?? 0) + (node['Rows Removed by Filter'] ?? 0)) * loops;
      const discarded = (node['Rows Removed by Join Filter'] ?? 0) * loops;
      return (loops > 100 && read > 1_000_000 && !INDEX_SCANS.has(node['Node Type'])) || discarded > 1_000_000;
    })
    .map((node) => `${node['Node Type']} × ${node['Actual Loops']} loops (${node['Actual Rows']} rows a loop, ${node['Rows Removed by Join Filter'] ?? 0} discarded by its join filter)`);
}

/** A parameter as PostgreSQL's text input reads it: the statements tested pass strings, numbers and arrays of strings. */
function textOf(value: unknown): string {
  if (Array.isArray(value)) return `{${value.map((item) => `"${String(item).replace(/["\\]/g, '\\$&')}"`).join(',')}}`;
  return String(value);
}

/**
 * A Queryable that runs each statement given to it as a prepared statement under EXPLAIN ANALYZE and
 * pushes its plan (the statement's own rows are not returned): with `SET LOCAL plan_cache_mode =
 * force_generic_plan` on the client, the plan named statements get after five runs. Meant for a
 * transaction the caller rolls back.
 */
export function explainingQueryable(client: pg.PoolClient, plans: PlanNode[]): Queryable {
  return {
    query: (async (first: string | { text: string; values?: unknown[] }, second?: unknown[]) => {
      const text = typeof first === 'string' ? first : first.text;
      const values = (typeof first === 'string' ? second : first.values) ?? [];
      await client.query(`PREPARE explained AS ${text}`);
      try {
        // EXECUTE under EXPLAIN takes no bind parameters: the values go in as literals.
        const args = values.length === 0 ? '' : `(${values.map((value) => (value === null ? 'NULL' : client.escapeLiteral(textOf(value)))).join(', ')})`;
        const result = await client.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) EXECUTE explained${args}`);
        plans.push(result.rows[0]!['QUERY PLAN'][0].Plan);
      } finally {
        await client.query('DEALLOCATE explained');
      }
      return { rows: [] };
    }) as Queryable['query'],
  } as Queryable;
}

/** How a statement is planned: as a first run plans it (custom) or as a named statement's sixth run does (generic). */
export type PlanCacheMode = 'force_custom_plan' | 'force_generic_plan';

/**
 * The plans of the statements `run` sends, each under EXPLAIN ANALYZE in `mode`, in one transaction
 * on a connection of `pool` that is rolled back: nothing the statements write is kept.
 */
export async function explainPlans(pool: pg.Pool, mode: PlanCacheMode, run: (db: Queryable) => Promise<unknown>): Promise<PlanNode[]> {
  const client = await pool.connect();
  const plans: PlanNode[] = [];
  try {
    await client.query('BEGIN');
    await client.query(`SET LOCAL plan_cache_mode = ${mode}`);
    await run(explainingQueryable(client, plans));
  } finally {
    await client.query('ROLLBACK');
    client.release();
  }
  return plans;
}
