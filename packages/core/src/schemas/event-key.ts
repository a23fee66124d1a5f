import { hash } from 'node:crypto';
import type { EventValues, Labels } from './event.ts';

/**
 * The identity of an event within (tenant, device, ts). With an `id` it is the id; without one it is
 * a digest of type and values, so a device re-sending the same event without an id is still stored
 * once. Prefixes keep the two spaces apart: an id can never collide with a digest.
 * Both are computed from validated text only (normalizeEvent refuses lone surrogates and U+0000): an
 * ill-formed id would reach PostgreSQL as U+FFFD and two different ids would become one, silently
 * deduplicating an acknowledged event. A value named `__proto__` is an own key of `values` (setOwnKey),
 * so the digest sees it like any other.
 * Labels (issue 13) join the digest only when the event has some, sorted by name: two points that
 * differ only in their tags are two events (InfluxDB's series key), while an event without labels
 * keeps exactly the key it had before labels existed, so a re-send from before an upgrade is still
 * stored once.
 */
export function eventKey(id: string | undefined, type: string, values: EventValues, labels?: Labels): string {
  if (id !== undefined) return `i:${id}`;
  const content: unknown[] = [type, Object.keys(values).sort().map((key) => [key, values[key]])];
  if (labels !== undefined) {
    const names = Object.keys(labels).sort();
    if (names.length > 0) content.push(names.map((name) => [name, labels[name]]));
  }
  const canonical = JSON.stringify(content);
  // The one-shot hash: a Hash object per event cost as much as the digest itself (line protocol's
  // events have no id, so every point is digested).
  return `h:${hash('sha256', canonical, 'base64url').slice(0, 32)}`;
}
