/*
 * The members of the group ($1 tenant, $2 label, $3 value) over a range [lo, hi), as SQL text spliced
 * into the group reads' statements (select-group-series-buckets.ts, select-group-total.ts; `lo` and
 * `hi` are SQL expressions of the statement, never input): one row per version of the label value
 * overlapping the range, with its device and validity.
 */

/** Every version of the value overlapping [lo, hi). */
export function groupVersionsIn(lo: string, hi: string): string {
  return `SELECT v.device, v.valid_from, v.valid_to
      FROM label_versions v
     WHERE v.tenant_id = $1 AND v.label = $2 AND v.value = $3 AND v.valid_to > ${lo} AND v.valid_from < ${hi}`;
}

/**
 * The versions whose device may hold events in [lo, hi): a member whose newest event time
 * (device_state.ts, which the projection raises in the transaction that inserts each history row, and
 * never lowers) is before `lo` has none there, and is left out by one primary-key probe of
 * device_state instead of a probe of every partition of history. A group's live edge is its tenant's
 * noted minutes, so without this every read of a bucket holding them probed all members' history even
 * when, as usual for most members, they sent nothing then (decision 0083). A device labelled but never
 * heard from has no state row and no history, and drops out as well.
 */
export function groupMembersWithEventsIn(lo: string, hi: string): string {
  return `${groupVersionsIn(lo, hi)}
       AND EXISTS (SELECT 1 FROM device_state ds WHERE ds.tenant_id = $1 AND ds.device = v.device AND ds.ts >= ${lo})`;
}
