import pg from 'pg';
import { createLogger } from '@strata/core';
import { runMigrations } from '@strata/testkit';

const SERVER = 'postgres://postgres@127.0.0.1:5432';
const DAY = 86_400_000;

export interface ScratchDatabase {
  url: string;
  /** Drops the database (unless `keep`, for EXPLAIN work afterwards) and closes the admin connection. */
  close(keep: boolean): Promise<void>;
}

/**
 * A fresh database `name` on the local server for the measurement scripts (measure-*-catch-up.ts):
 * dropped if it was there, migrated, and with history partitions for the day before `fromMs` and the
 * `days` after it. The name is the script's own option, never a request's.
 */
export async function openScratchDatabase(name: string, fromMs: number, days: number): Promise<ScratchDatabase> {
  const admin = new pg.Client({ connectionString: `${SERVER}/postgres` });
  await admin.connect();
  const url = `${SERVER}/${name}`;
  const close = async (keep: boolean): Promise<void> => {
    try {
      if (!keep) await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    } finally {
      await admin.end();
    }
  };
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${name}`);
    await runMigrations(url, createLogger('measure', 'silent'));
    const db = new pg.Client({ connectionString: url });
    await db.connect();
    try {
      await db.query('SELECT ensure_event_partitions($1::date, $2)', [new Date(fromMs - DAY).toISOString().slice(0, 10), days + 1]);
    } finally {
      await db.end();
    }
  } catch (error) {
    await close(false);
    throw error;
  }
  return { url, close };
}
