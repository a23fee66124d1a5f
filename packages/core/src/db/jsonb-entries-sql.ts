/**
 * SQL for a JSONB object's entries as a subquery with columns `key` (text) and `value` (jsonb): what
 * `jsonb_each(object)` gives, for `CROSS JOIN LATERAL ${jsonbEntries('e."values"')} k`, at less cost
 * per row. jsonb_each returns a composite, and every call builds its result's tuple descriptor from
 * the catalog again: 23 % of a minute claim's CPU (perf, 2026-12-01). jsonb_object_keys returns plain
 * text, and `->` finds each key's value by a binary search of the object.
 *
 * Two fences keep that cheap for wide objects too. The object is detoasted once per row: `'{}' || o`
 * returns `o` itself, decompressed (jsonb_concat's shortcut for an empty left side), and `OFFSET 0`
 * keeps it computed once; without it, every `->` decompressed a stored object again (a hostile review:
 * a claim of 4,000 events of 200 values, 26 s against jsonb_each's 2.9 s). The outer `OFFSET 0` keeps
 * each value computed once, not again in every filter and aggregate that reads it.
 * Used where a statement takes apart every event of a minute (the claims); the drain and the
 * point-in-time read keep jsonb_each: no gain measured there, and slower on wide values (the review).
 * `object` is an SQL expression written in this codebase, never input.
 */
export function jsonbEntries(object: string): string {
  return `(SELECT key, d.o -> key AS value FROM (SELECT '{}'::jsonb || (${object}) AS o OFFSET 0) d, jsonb_object_keys(d.o) key OFFSET 0)`;
}
