import { hash } from 'node:crypto';
import { DIGEST_LENGTH } from './claim-device-keys-script.ts';

/**
 * Registry members are short digests, not the names: a name may be 128 characters (up to 512 bytes),
 * and the registry lives in the queue Redis, which must never fill up. 66 bits make a collision among
 * one device's keys vanishingly unlikely, and its only effect would be one key too many.
 */
export function valueKeyDigest(name: string): string {
  // The one-shot hash: a claim digests every new name of its request (a first request of a new device).
  return hash('sha256', name, 'base64url').slice(0, DIGEST_LENGTH);
}
