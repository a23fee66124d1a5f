/**
 * The connections of a source that always use a generic plan (decision 0105). PostgreSQL plans a
 * prepared statement's first five runs for their values, then keeps doing so whenever the generic
 * plan's estimate looks dearer: the group total (a statement of a dozen CTEs) was planned at every
 * read, ~2.5 ms, for 0.3 ms of execution. Only statements written to be planned without their values
 * go here; the rest stay on the source's usual pool, where plans see their parameters (decision 0083:
 * the device list under a forced generic plan scanned every tenant's states).
 */
export const GENERIC_PLAN_SETTINGS = { plan_cache_mode: 'force_generic_plan' };
export const GENERIC_PLAN_APPLICATION = 'strata-query-api-generic';
