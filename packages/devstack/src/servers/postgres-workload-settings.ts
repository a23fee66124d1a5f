const MiB = 2 ** 20;

/**
 * Server settings for Strata's workload (many small synchronous commits, an append-only history,
 * a churning UNLOGGED staging table and a hot device_state table) on a small machine. `pnpm start`'s
 * private PostgreSQL runs with them; docs/operations.md explains each and recommends them for
 * production. Memory sizes follow the machine: `totalMemoryBytes` is os.totalmem().
 */
export function postgresWorkloadSettings(totalMemoryBytes: number): Record<string, string> {
  const ramMiB = Math.floor(totalMemoryBytes / MiB);
  // A quarter of RAM is the usual start; past 2 GB the OS page cache serves a small box better,
  // and the services, Redis and the load share the same memory.
  const sharedBuffersMiB = clamp(Math.floor(ramMiB / 4), 128, 2048);
  return {
    shared_buffers: `${sharedBuffersMiB}MB`,
    effective_cache_size: `${clamp(Math.floor((ramMiB * 3) / 4), 512, 1_048_576)}MB`,
    // Many concurrent commits of a few hundred rows each: room for their WAL before it is written.
    wal_buffers: '32MB',
    // Fewer checkpoints, so fewer full-page images of the same hot pages (device_state, the
    // newest history partition's index tail) in the WAL.
    max_wal_size: '4GB',
    min_wal_size: '1GB',
    checkpoint_timeout: '15min',
    checkpoint_completion_target: '0.9',
    // The full-page images that remain are JSONB-heavy and compress well. `on` (pglz) works with
    // every build; `lz4` is cheaper where the server was built with it (operations.md).
    wal_compression: 'on',
    // Solid-state storage: prefetch bitmap heap pages, and price random reads near sequential ones.
    effective_io_concurrency: '200',
    random_page_cost: '1.1',
    work_mem: '16MB',
    maintenance_work_mem: `${clamp(Math.floor(ramMiB / 16), 64, 1024)}MB`,
    // staging_events is emptied by every drain and device_state rewrites a row per device per
    // drain: vacuum them soon and often, before dead rows bloat the tables and their indexes. On by
    // default, and said so: a server with it off (CI images turn it off) bloats every table but the
    // ones ops vacuums itself (decision 0089), and the bench names it among the differing settings.
    autovacuum: 'on',
    autovacuum_naptime: '10s',
    autovacuum_vacuum_scale_factor: '0.02',
    autovacuum_vacuum_insert_scale_factor: '0.05',
    autovacuum_analyze_scale_factor: '0.02',
    autovacuum_vacuum_cost_limit: '2000',
    // Short statements: compiling a query costs more than it saves, and shows up as latency spikes.
    jit: 'off',
    // The durability promise: the projection commits synchronously. Staging writes turn it off per
    // session (the queue job holds the same batch), never the server.
    synchronous_commit: 'on',
  };
}

function clamp(value: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, value));
}
