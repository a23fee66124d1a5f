/**
 * The members of the group ($1 tenant, $2 label, $3 value) that may hold events in [lo, hi), as SQL
 * text spliced into the group reads' statements (select-group-series-buckets.ts,
 * select-group-total.ts; `lo` and `hi` are SQL expressions of the statement, never input): one row
 * per version of the label value overlapping the range, its device and validity.
 *
 * A member whose newest event time (device_state.ts, which the projection raises in the transaction
 * that inserts each history row, and never lowers) is before `lo` has no event in the range, so it is
 * left out by one primary-key probe of device_state instead of a probe of every partition of history.
 * A group's live edge is its tenant's noted minutes, so without this every read of a bucket holding
 * them probed all members' history even when, as usual, few members sent anything then (the bench's
 * 1,000-device group beside ingest on other devices: decision 0083). A device labelled but never
 * heard from has no state row and no history, and drops out as well.
 */
export function groupMembersIn(lo: string, hi: string): string {
  return `SELECT v.device, v.valid_from, v.valid_to
      FROM label_versions v
      JOIN device_state ds ON ds.tenant_id = v.tenant_id AND ds.device = v.device AND ds.ts >= ${lo}
     WHERE v.tenant_id = $1 AND v.label = $2 AND v.value = $3 AND v.valid_to > ${lo} AND v.valid_from < ${hi}`;
}
