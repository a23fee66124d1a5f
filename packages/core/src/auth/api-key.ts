import { createHash, randomBytes } from 'node:crypto';

/** A new API key: 256 random bits, prefixed so a leaked key is recognisable in logs and scanners. */
export function generateApiKey(): string {
  return `sk_${randomBytes(32).toString('base64url')}`;
}

/** What is stored: SHA-256 is enough for a random 256-bit secret (nothing to brute-force). */
export function hashApiKey(key: string): Buffer {
  return createHash('sha256').update(key).digest();
}
