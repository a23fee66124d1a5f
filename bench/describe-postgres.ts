import type { Pool } from '@strata/core';
import { postgresWorkloadSettings } from '@strata/devstack';

export interface PostgresDescription {
  version: string;
  /** The settings that decide this workload's speed, as the server shows them. */
  settings: Record<string, string>;
  /** Where the server differs from the settings `pnpm start` gives its private PostgreSQL. */
  differsFromRecommended: string[];
}

const SHOWN = ['shared_buffers', 'synchronous_commit', 'fsync', 'full_page_writes', 'wal_buffers', 'wal_compression', 'max_wal_size', 'checkpoint_timeout', 'commit_delay', 'work_mem', 'effective_io_concurrency', 'random_page_cost', 'autovacuum_naptime', 'autovacuum_vacuum_scale_factor', 'jit', 'max_connections', 'huge_pages'];

/** Which PostgreSQL the bench measured, so a number is never read without its server's settings. */
export async function describePostgres(db: Pool, totalMemoryBytes: number): Promise<PostgresDescription> {
  const recommended = postgresWorkloadSettings(totalMemoryBytes);
  const names = [...new Set([...SHOWN, ...Object.keys(recommended)])];
  const version = await db.query<{ version: string }>("SELECT current_setting('server_version') AS version");
  const shown = await db.query<{ name: string; value: string; bytes: string | null }>(
    `SELECT name, current_setting(name) AS value,
            CASE WHEN unit IN ('8kB', 'kB', 'MB') THEN pg_size_bytes(current_setting(name))::text END AS bytes
     FROM pg_settings WHERE name = ANY($1::text[])`,
    [names],
  );
  const settings: Record<string, string> = {};
  const differs: string[] = [];
  for (const row of shown.rows) {
    settings[row.name] = row.value;
    const wanted = recommended[row.name];
    if (wanted === undefined) continue;
    const same = row.bytes !== null ? sameSize(row.value, wanted) : normalize(row.value) === normalize(wanted);
    if (!same) differs.push(`${row.name}=${row.value} (recommended ${wanted})`);
  }
  return { version: version.rows[0]?.version ?? 'unknown', settings, differsFromRecommended: differs };
}

function sameSize(shown: string, wanted: string): boolean {
  const bytes = (text: string) => {
    const match = /^(\d+)\s*(kB|MB|GB|TB)?$/.exec(text.trim());
    if (!match) return Number.NaN;
    const unit = { kB: 2 ** 10, MB: 2 ** 20, GB: 2 ** 30, TB: 2 ** 40 }[match[2] ?? 'kB'] as number;
    return Number(match[1]) * unit;
  };
  return bytes(shown) === bytes(wanted);
}

function normalize(value: string): string {
  // The server shows `on` for wal_compression as `pglz`, and times in its own unit.
  const v = value.trim().toLowerCase();
  if (v === 'pglz') return 'on';
  const time = /^(\d+)\s*(ms|s|min|h)$/.exec(v);
  if (time) return String(Number(time[1]) * { ms: 1, s: 1000, min: 60_000, h: 3_600_000 }[time[2] as 'ms']);
  return v;
}
