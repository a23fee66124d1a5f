import type { Config } from '@strata/core';
import type { CliIo } from '../cli-io.ts';
import { listEventPartitions } from '../queries/list-event-partitions.ts';
import { withCliPool } from './with-cli-pool.ts';

/** Lists the event partitions: a table for people, `--json` for scripts. */
export async function partitionsCommand(args: string[], config: Config, io: CliIo): Promise<number> {
  const partitions = await withCliPool(config, (pool) => listEventPartitions(pool));
  if (args.includes('--json')) {
    io.stdout.write(`${JSON.stringify(partitions)}\n`);
    return 0;
  }
  const rows = partitions.map((p) => [p.name, p.rowsEstimate === null ? '?' : String(p.rowsEstimate), formatBytes(p.bytes)]);
  const header = ['PARTITION', 'ROWS (EST.)', 'SIZE'];
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] as string).length)));
  for (const row of [header, ...rows]) {
    io.stdout.write(`${row[0]!.padEnd(widths[0]!)}  ${row[1]!.padStart(widths[1]!)}  ${row[2]!.padStart(widths[2]!)}\n`);
  }
  return 0;
}

function formatBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}
