import type { Pool } from '@strata/core';

/** Bytes on disk (heap, TOAST, every index) per table; partitions counted under their root. */
export type TableSizes = Record<string, number>;

// Every table of the schema, whatever migrations made it: new aggregate tables count without
// anyone editing the bench. Partitioned parents hold no data; their leaves do.
const SQL = `
SELECT coalesce(pg_partition_root(c.oid), c.oid)::regclass::text AS name, sum(pg_total_relation_size(c.oid))::bigint AS bytes
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'm')
GROUP BY 1`;

export async function measureTableSizes(db: Pool): Promise<TableSizes> {
  const result = await db.query<{ name: string; bytes: string }>(SQL);
  return Object.fromEntries(result.rows.map((row) => [row.name, Number(row.bytes)]));
}

/**
 * Waits until the schema's size stops changing (two equal samples a second apart, at most
 * `timeoutMs`), so that work done after the drain, such as materializing aggregates, is counted.
 */
export async function measureSettledSizes(db: Pool, timeoutMs: number): Promise<TableSizes> {
  const deadline = performance.now() + timeoutMs;
  let previous = await measureTableSizes(db);
  while (performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const next = await measureTableSizes(db);
    if (total(next) === total(previous)) return next;
    previous = next;
  }
  return previous;
}

export function total(sizes: TableSizes): number {
  return Object.values(sizes).reduce((sum, bytes) => sum + bytes, 0);
}
