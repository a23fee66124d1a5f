/**
 * A list page (devices, events) ends at `limit` rows (at most 1000) or once its rows' values pass this many bytes of
 * JSON, whichever comes first; `nextCursor` continues either way. A row is never split, so a page holds at
 * most this plus one row (a device's state is bounded by MAX_KEYS_PER_DEVICE values of 64 KiB).
 */
export const LIST_PAGE_MAX_BYTES = 4 * 1024 * 1024;
