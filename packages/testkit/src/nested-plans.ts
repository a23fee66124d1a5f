import type pg from 'pg';
import type { Queryable } from '@strata/core';
import type { PlanNode } from './explaining-queryable.ts';

/** A statement run inside another (a function's), as auto_explain reported it. */
export interface NestedPlan {
  query: string;
  plan: PlanNode;
}

/**
 * Runs `run` on one client of `pool` in a transaction it rolls back, with auto_explain reporting the
 * plan of every statement, nested ones included (those inside PL/pgSQL and SQL functions, which
 * EXPLAIN of the calling statement does not show), as notices to this client: ANALYZE, JSON. Needs a
 * superuser (LOAD), as the tests connect. Every statement of a function called per row is reported,
 * so keep fixtures to thousands of calls.
 */
export async function nestedPlans(pool: pg.Pool, run: (db: Queryable) => Promise<unknown>): Promise<NestedPlan[]> {
  const client = await pool.connect();
  const plans: NestedPlan[] = [];
  const onNotice = (notice: { message?: string }): void => {
    const text = notice.message ?? '';
    const start = text.indexOf('{');
    if (start < 0 || !text.startsWith('duration:')) return;
    const explained = JSON.parse(text.slice(start)) as { 'Query Text': string; Plan: PlanNode };
    plans.push({ query: explained['Query Text'], plan: explained.Plan });
  };
  client.on('notice', onNotice);
  try {
    await client.query('BEGIN');
    await client.query("LOAD 'auto_explain'");
    for (const setting of ['log_min_duration = 0', 'log_analyze = on', 'log_timing = off', 'log_nested_statements = on', "log_format = 'json'", "log_level = 'notice'"]) {
      await client.query(`SET LOCAL auto_explain.${setting}`);
    }
    await client.query("SET LOCAL client_min_messages = 'notice'");
    await run(client);
  } finally {
    await client.query('ROLLBACK');
    client.off('notice', onNotice);
    // LOAD lasts for the session: this connection must not go back to the pool still explaining.
    client.release(true);
  }
  return plans;
}
