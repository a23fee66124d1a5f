import { createHash, randomBytes } from 'node:crypto';

/** `sk_` and 32 random bytes in unpadded base64url: what generateApiKey makes, and nothing else is a key. */
export const API_KEY_PATTERN = /^sk_[A-Za-z0-9_-]{43}$/;

/** A new API key: 256 random bits, prefixed so a leaked key is recognisable in logs and scanners. */
export function generateApiKey(): string {
  return `sk_${randomBytes(32).toString('base64url')}`;
}

/**
 * True when `key` has the shape of a key. Checked before any cache or database lookup, so junk (a
 * 16 KB header, a password from another system) costs neither a query nor a cache slot.
 */
export function isWellFormedApiKey(key: string): boolean {
  return key.length === 46 && API_KEY_PATTERN.test(key);
}

/** What is stored: SHA-256 is enough for a random 256-bit secret (nothing to brute-force). */
export function hashApiKey(key: string): Buffer {
  return createHash('sha256').update(key).digest();
}
