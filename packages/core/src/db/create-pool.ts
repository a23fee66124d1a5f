import pg from 'pg';
import type { Logger } from '../logging/create-logger.ts';

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;
export type Queryable = pg.Pool | pg.PoolClient;

export interface PoolOptions {
  connectionString: string;
  max: number;
  applicationName: string;
  /** Extra server settings for every connection, e.g. `synchronous_commit=off` for staging writes. */
  settings?: Record<string, string>;
  statementTimeoutMs?: number;
  connectionTimeoutMs?: number;
}

// timestamptz and int8 come back as strings: we format timestamps ourselves (always UTC ISO-8601)
// and counts can exceed 2^53 in principle, so converting is the caller's explicit choice.
pg.types.setTypeParser(pg.types.builtins.TIMESTAMPTZ, (value) => value);

/** Idle time before a connection's first keepalive probe (the kernel's interval and count follow). */
export const KEEPALIVE_INITIAL_DELAY_MS = 10_000;

/**
 * A pool sized for small machines. An idle connection that errors (server restart) must not crash
 * the process, so pool errors are logged and the pool replaces the connection on next use.
 */
export function createPool(options: PoolOptions, logger: Logger): pg.Pool {
  // JIT off unless a pool asks for it: Strata's statements are short, and the planner's estimates for
  // a drain's statement or a refresh pass jit_above_cost, where compiling took longer than running
  // (1.4 s of a 2.3 s refresh, decision 0064). docs/operations.md recommends jit=off server-wide too.
  const settings: Record<string, string> = { jit: 'off', ...options.settings };
  if (options.statementTimeoutMs) settings.statement_timeout = String(options.statementTimeoutMs);
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.max,
    application_name: options.applicationName,
    connectionTimeoutMillis: options.connectionTimeoutMs ?? 5000,
    idleTimeoutMillis: 30_000,
    // TCP keepalive on every connection: a pooled connection that sits idle behind a NAT or a load
    // balancer is otherwise dropped by it silently, and its next query waits for TCP to give up
    // (minutes) before it fails. The kernel's probes keep such paths open and find a dead peer.
    keepAlive: true,
    keepAliveInitialDelayMillis: KEEPALIVE_INITIAL_DELAY_MS,
    options: Object.entries(settings)
      .map(([key, value]) => `-c ${key}=${value}`)
      .join(' '),
  });
  pool.on('error', (error) => logger.warn({ err: error }, 'idle database connection failed'));
  return pool;
}
