import { randomUUID } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import pg from 'pg';
import copyStreams from 'pg-copy-streams';

/** One trial: COPY into staging, then the move. */
export interface CeilingTrial {
  rowsPerSec: number;
  copyMs: number;
  moveMs: number;
}

/** The run's ceiling: the median trial's numbers, and every trial. */
export interface SqlCeiling extends CeilingTrial {
  rows: number;
  trials: CeilingTrial[];
}

/**
 * Trials per run. One move of 200,000 rows takes 2–5 s, and single trials of the same run's machine
 * spread from 42,000 to 78,000 rows/s (2026-12-01, three runs within four minutes) while the batch
 * phase's end-to-end rate beside them moved ±10 %: a ratio over one trial was mostly the trial's noise.
 */
const TRIALS = 3;

const SCHEMA = 'bench_ceiling';
const DEVICES = 10_000;

// Nothing of Strata: a staging table, a day-partitioned history with a unique key on
// (tenant, device, id, ts), and a latest-state table, as DESIGN §2 defines the ceiling.
const SETUP = `
DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE;
CREATE SCHEMA ${SCHEMA};
CREATE UNLOGGED TABLE ${SCHEMA}.staging (tenant uuid NOT NULL, device text NOT NULL, id text NOT NULL, ts timestamptz NOT NULL, vals jsonb NOT NULL);
CREATE TABLE ${SCHEMA}.history (tenant uuid NOT NULL, device text NOT NULL, id text NOT NULL, ts timestamptz NOT NULL, vals jsonb NOT NULL,
  UNIQUE (tenant, device, id, ts)) PARTITION BY RANGE (ts);
CREATE TABLE ${SCHEMA}.latest (tenant uuid NOT NULL, device text NOT NULL, ts timestamptz NOT NULL, vals jsonb NOT NULL, PRIMARY KEY (tenant, device));`;

const partition = (day: string, next: string) =>
  `CREATE TABLE ${SCHEMA}.history_${day.replaceAll('-', '')} PARTITION OF ${SCHEMA}.history FOR VALUES FROM ('${day} 00:00:00+00') TO ('${next} 00:00:00+00')`;

// One statement: take everything staged, keep the new rows, fold each device's newest into latest.
const MOVE = `
WITH moved AS (DELETE FROM ${SCHEMA}.staging RETURNING *),
inserted AS (
  INSERT INTO ${SCHEMA}.history (tenant, device, id, ts, vals) SELECT tenant, device, id, ts, vals FROM moved
  ON CONFLICT DO NOTHING RETURNING tenant, device, ts, vals)
INSERT INTO ${SCHEMA}.latest (tenant, device, ts, vals)
SELECT DISTINCT ON (tenant, device) tenant, device, ts, vals FROM inserted ORDER BY tenant, device, ts DESC
ON CONFLICT (tenant, device) DO UPDATE SET ts = excluded.ts, vals = excluded.vals WHERE excluded.ts > ${SCHEMA}.latest.ts`;

/**
 * The ceiling every Strata ratio is taken against (DESIGN §2): `rows` events of 10k devices with
 * three values in JSONB, COPYed into UNLOGGED staging and moved by one statement, on one connection
 * sending literal SQL to the same server in the same run, in a scratch schema dropped afterwards.
 * Three trials, each on a fresh schema; the run's ceiling is the median trial (by rows/s).
 */
export async function measureSqlCeiling(databaseUrl: string, rows: number, startMs: number): Promise<SqlCeiling> {
  const trials: CeilingTrial[] = [];
  for (let trial = 0; trial < TRIALS; trial++) trials.push(await measureTrial(databaseUrl, rows, startMs));
  const median = [...trials].sort((a, b) => a.rowsPerSec - b.rowsPerSec)[Math.floor(TRIALS / 2)] as CeilingTrial;
  return { ...median, rows, trials };
}

async function measureTrial(databaseUrl: string, rows: number, startMs: number): Promise<CeilingTrial> {
  const client = new pg.Client({ connectionString: databaseUrl, application_name: 'bench-ceiling' });
  await client.connect();
  try {
    await client.query(SETUP);
    const day = (offset: number) => new Date(Math.floor(startMs / 86_400_000) * 86_400_000 + offset * 86_400_000).toISOString().slice(0, 10);
    for (let d = 0; d < 2; d++) await client.query(partition(day(d), day(d + 1)));
    const tenant = randomUUID();
    // Chunks of 1,000 lines: one CopyData message per line would
    // measure the client's message overhead rather than the server.
    const csv: string[] = [];
    for (let chunk = 0; chunk < rows; chunk += 1000) {
      const lines: string[] = [];
      for (let n = chunk; n < Math.min(rows, chunk + 1000); n++) {
        const vals = `{""temp"": ${(n % 400) / 10}, ""hr"": ${60 + (n % 90)}, ""status"": ""${n % 10 === 0 ? 'warn' : 'ok'}""}`;
        lines.push(`${tenant},dev-${n % DEVICES},ceiling-${n},${new Date(startMs + n).toISOString()},"${vals}"\n`);
      }
      csv.push(lines.join(''));
    }
    const started = performance.now();
    await pipeline(Readable.from(csv), client.query(copyStreams.from(`COPY ${SCHEMA}.staging FROM STDIN WITH (FORMAT csv)`)));
    const copied = performance.now();
    await client.query(MOVE);
    const moved = performance.now();
    const stored = await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${SCHEMA}.history`);
    if (Number(stored.rows[0]?.n) !== rows) throw new Error(`ceiling: ${stored.rows[0]?.n} of ${rows} rows in history`);
    return { rowsPerSec: rows / ((moved - started) / 1000), copyMs: copied - started, moveMs: moved - copied };
  } finally {
    await client.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`).catch(() => {});
    await client.end();
  }
}
