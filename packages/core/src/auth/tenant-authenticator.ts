import type { Queryable } from '../db/create-pool.ts';
import type { Clock } from '../time/clock.ts';
import { unauthorized, unavailable } from '../errors/app-error.ts';
import { hashApiKey } from './api-key.ts';
import { findTenantByKey } from './find-tenant-by-key.ts';

export interface TenantAuthenticatorOptions {
  /** How long a looked-up key is trusted without asking the database again. */
  ttlMs: number;
  maxEntries: number;
}

/**
 * Resolves `Authorization: Bearer <key>` to a tenant id. Answers are cached briefly (hits and
 * misses), so the hot ingest path does not pay a database round trip per request.
 */
export class TenantAuthenticator {
  readonly #db: Queryable;
  readonly #clock: Clock;
  readonly #options: TenantAuthenticatorOptions;
  readonly #cache = new Map<string, { tenantId: string | undefined; expires: number }>();

  constructor(db: Queryable, clock: Clock, options: TenantAuthenticatorOptions = { ttlMs: 30_000, maxEntries: 10_000 }) {
    this.#db = db;
    this.#clock = clock;
    this.#options = options;
  }

  /** The tenant for an Authorization header value; throws 401 for a missing or unknown key. */
  async authenticate(header: string | undefined): Promise<string> {
    const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!match) throw unauthorized('missing Authorization: Bearer <api key>');
    const key = match[1] as string;
    const now = this.#clock.now();
    const cached = this.#cache.get(key);
    let tenantId: string | undefined;
    if (cached && cached.expires > now) {
      tenantId = cached.tenantId;
    } else {
      try {
        tenantId = await findTenantByKey(this.#db, hashApiKey(key));
      } catch (error) {
        throw unavailable('cannot verify the API key right now', error);
      }
      if (this.#cache.size >= this.#options.maxEntries) this.#cache.clear();
      this.#cache.set(key, { tenantId, expires: now + this.#options.ttlMs });
    }
    if (!tenantId) throw unauthorized('invalid API key');
    return tenantId;
  }
}
