const MiB = 2 ** 20;

/**
 * glibc allocator settings for the PostgreSQL server's environment (decision 0094). A backend frees its
 * statement's memory at the end of every statement; with glibc's defaults the top of the heap goes back
 * to the kernel each time and the next drain faults the same pages in again: 12 % of the machine's CPU
 * in page faults during `pnpm bench --only batch`, 3 % with these (perf, 2026-12-01). Each backend keeps
 * up to the trim threshold of freed memory for its next statement instead.
 */
export function postgresMallocEnvironment(): Record<string, string> {
  return {
    // Allocations below this come from the heap, not from a mapping of their own that is unmapped on
    // free: PostgreSQL's memory-context blocks grow to 8 MB, a sort's tuple array to work_mem.
    MALLOC_MMAP_THRESHOLD_: String(16 * MiB),
    // Free memory at the top of the heap is returned to the kernel only past this.
    MALLOC_TRIM_THRESHOLD_: String(64 * MiB),
    // Grow the heap by this much more than asked, so a growing statement calls brk less often.
    MALLOC_TOP_PAD_: String(4 * MiB),
  };
}
