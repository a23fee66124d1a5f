import { createHash } from 'node:crypto';
import type { EventValues } from './event.ts';

/**
 * The identity of an event within (tenant, device, ts). With an `id` it is the id; without one it is
 * a digest of type and values, so a device re-sending the same event without an id is still stored
 * once. Prefixes keep the two spaces apart: an id can never collide with a digest.
 */
export function eventKey(id: string | undefined, type: string, values: EventValues): string {
  if (id !== undefined) return `i:${id}`;
  const canonical = JSON.stringify([type, Object.keys(values).sort().map((key) => [key, values[key]])]);
  return `h:${createHash('sha256').update(canonical).digest('base64url').slice(0, 32)}`;
}
