import type { Queryable } from '@strata/core';

/** The note tables: tenant minutes (aggregate_dirty) and group minutes a label change moved (group_dirty). */
export type NoteTable = 'aggregate_dirty' | 'group_dirty';

export interface SelectDirtyTenantsQuery {
  /** Only minutes that ended at or before this instant (ISO-8601) are due. */
  closedBy: string;
  limit: number;
  /**
   * Which notes; tenant notes unless said. Both tables have a (tenant_id, bucket) index. 'open': tenants
   * with a tenant note of a minute that has not ended by closedBy (whose group heads the refresher
   * advances, decision 0085), those whose heads moved least recently first.
   */
  table?: NoteTable | 'open';
}

/** Which of a tenant's notes decide: due ones (its oldest minute has ended) or open ones (its newest has not). */
type Due = 'ended' | 'open';

const statement = (table: NoteTable, due: Due): string => `WITH RECURSIVE tenants AS (
             (SELECT tenant_id FROM ${table} ORDER BY tenant_id LIMIT 1)
             UNION ALL
             SELECT (SELECT d.tenant_id FROM ${table} d WHERE d.tenant_id > t.tenant_id ORDER BY d.tenant_id LIMIT 1)
               FROM tenants t WHERE t.tenant_id IS NOT NULL
           )
           SELECT tenant_id FROM (
             SELECT t.tenant_id, (SELECT ${due === 'ended' ? 'min' : 'max'}(d.bucket) FROM ${table} d WHERE d.tenant_id = t.tenant_id) AS edge
               FROM tenants t WHERE t.tenant_id IS NOT NULL
           ) o
            WHERE edge ${due === 'ended' ? '<=' : '>'} $1::timestamptz - interval '1 minute'
            ORDER BY ${
              due === 'ended'
                ? 'edge'
                : // Every tenant receiving events ties on the current minute: the least recently advanced first.
                  '(SELECT max(m.written) FROM group_minute_marks m WHERE m.tenant_id = o.tenant_id) NULLS FIRST, edge'
            } LIMIT $2`;

// Table names come from this fixed list, never from input.
const STATEMENTS: Record<NoteTable | 'open', { name: string; text: string }> = {
  aggregate_dirty: { name: 'select-dirty-tenants', text: statement('aggregate_dirty', 'ended') },
  group_dirty: { name: 'select-group-noted-tenants', text: statement('group_dirty', 'ended') },
  open: { name: 'select-open-noted-tenants', text: statement('aggregate_dirty', 'open') },
};

/**
 * Tenants with noted minutes that are due for a refresh, the longest-waiting first. The tenants are
 * walked through the (tenant, bucket) index one at a time (a loose index scan) and each one's oldest
 * note is its first index entry, so the cost follows the number of tenants, not of notes: a month of
 * history landing at once leaves tens of thousands of notes, and grouping them all took 6–12 ms of
 * every round of the catch-up that removes them (decision 0064). Group notes (label changes that moved
 * past events between groups) are walked the same way; without labels that table is empty: one probe.
 */
export async function selectDirtyTenants(db: Queryable, query: SelectDirtyTenantsQuery): Promise<string[]> {
  const { name, text } = STATEMENTS[query.table ?? 'aggregate_dirty'];
  const result = await db.query<{ tenant_id: string }>({ name, text, values: [query.closedBy, query.limit] });
  return result.rows.map((row) => row.tenant_id);
}
