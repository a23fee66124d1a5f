import { hash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Queryable } from '../db/create-pool.ts';
import type { Logger } from '../logging/create-logger.ts';
import { ThrottledLogger } from '../logging/throttled-logger.ts';
import type { Clock } from '../time/clock.ts';
import { tooManyRequests, unauthorized, unavailable } from '../errors/app-error.ts';
import { redisKeys } from '../redis/redis-keys.ts';
import { whenReady } from '../redis/when-ready.ts';
import { hashApiKey, isWellFormedApiKey } from './api-key.ts';
import { recordAuthFailure, type AuthFailureLimitOptions } from './auth-failure-limit.ts';
import { clientAddressBucket } from './client-address-bucket.ts';
import { findKeyByHash } from './find-key-by-hash.ts';
import type { KeyIdentity } from './key-identity.ts';
import { LruCache } from './lru-cache.ts';

export interface TenantAuthenticatorOptions {
  db: Queryable;
  clock: Clock;
  logger: Logger;
  /** Holds the failed-attempt counters; when it is unreachable the limit is skipped, not enforced. */
  redis: Redis;
  /**
   * A connection of its own (a subscribed connection can run no other command) to REDIS_URL, where
   * `ops key revoke` publishes. Created and closed by the caller; start() subscribes it.
   */
  subscriber?: Redis;
  prefix: string;
  /** Failed authentications per minute per client address before 429; 0 turns the limit off. */
  authFailuresPerMinute: number;
  /** How long a looked-up key is trusted without asking again: a backstop, revocation is pushed. */
  ttlMs?: number;
  /** Bound on cached valid keys (least recently used evicted first). */
  maxEntries?: number;
  /** Bound on cached unknown keys, kept apart so unknown keys can never evict a valid one. */
  maxMisses?: number;
}

interface Hit {
  identity: KeyIdentity;
  expires: number;
}

const WARN_EVERY_MS = 5000;

/**
 * Resolves an API key to the identity of the key. Valid keys are cached by SHA-256 digest (never by
 * the raw key, which a client can make 16 KB long), least recently used evicted first; unknown keys
 * are cached in a separate small LRU, so a spray of random keys cannot push real tenants out. A key
 * of the wrong shape is refused before any lookup. Every process subscribes to the revocation
 * channel, so a revoked key stops working everywhere as soon as the message arrives.
 */
export class TenantAuthenticator {
  readonly #options: TenantAuthenticatorOptions;
  readonly #limit: AuthFailureLimitOptions;
  readonly #ttlMs: number;
  readonly #hits: LruCache<string, Hit>;
  readonly #misses: LruCache<string, number>;
  readonly #listeners = new Set<(keyId: string) => void>();
  readonly #channel: string;
  /** Bumped by every revocation and cache reset: a lookup begun before one must not re-cache its answer. */
  #epoch = 0;
  #started = false;
  #subscribedOnce = false;
  readonly #limiterErrors: ThrottledLogger;
  /** Resolves once the revocation subscription is active (or has failed and been logged). */
  ready: Promise<void> = Promise.resolve();

  constructor(options: TenantAuthenticatorOptions) {
    this.#options = options;
    this.#limit = { redis: options.redis, prefix: options.prefix, perMinute: options.authFailuresPerMinute };
    this.#ttlMs = options.ttlMs ?? 30_000;
    this.#hits = new LruCache(options.maxEntries ?? 10_000);
    this.#misses = new LruCache(options.maxMisses ?? 1000);
    this.#channel = redisKeys.keyRevocations(options.prefix);
    this.#limiterErrors = new ThrottledLogger(options.logger, WARN_EVERY_MS, () => options.clock.now());
  }

  /**
   * The identity behind a credential: the key itself, or an Authorization header value
   * `Bearer <key>`. Throws 401 for a missing, malformed, unknown or revoked key (429 instead once the
   * client address is past its failed-attempt limit), 503 when the database cannot answer.
   */
  async authenticate(credential: string | undefined, clientAddress: string): Promise<KeyIdentity> {
    const key = credential === undefined ? undefined : stripScheme(credential);
    const now = this.#options.clock.now();
    const digest = digestOf(key);
    // Verify first: a key that verifies is never refused by the failed-attempt limit, so a client
    // spraying bad keys from an address cannot lock that address's valid keys out. Unknown keys stay
    // cheap: the wrong shape costs no lookup, a repeated one is answered by the miss cache.
    if (digest !== undefined) {
      const hit = this.#hits.get(digest);
      if (hit && hit.expires > now) return hit.identity;
      const missExpires = this.#misses.get(digest);
      const identity = missExpires !== undefined && missExpires > now ? undefined : await this.#lookup(digest, key as string, now);
      if (identity) return identity;
    }
    // Only a failure pays for the limiter's round trip; past the limit it is answered 429, not 401.
    const retryAfter = await this.#limiterCall(() => recordAuthFailure(this.#limit, clientAddressBucket(clientAddress), now));
    if (retryAfter !== undefined) throw tooManyRequests('too many failed authentications from this address', retryAfter);
    throw unauthorized(key === undefined || key === '' ? 'missing Authorization: Bearer <api key>' : 'invalid API key');
  }

  /**
   * The identity behind a credential when this process has it cached and fresh, else undefined (then
   * authenticate() decides). Synchronous, so the steady state of a keep-alive client costs no promise.
   */
  cached(credential: string | undefined): KeyIdentity | undefined {
    const digest = digestOf(credential === undefined ? undefined : stripScheme(credential));
    if (digest === undefined) return undefined;
    const hit = this.#hits.get(digest);
    return hit && hit.expires > this.#options.clock.now() ? hit.identity : undefined;
  }

  /** Subscribes to the revocation channel in the background; readiness never waits for Redis. */
  start(): Promise<void> {
    const subscriber = this.#options.subscriber;
    if (!subscriber || this.#started) return this.ready;
    this.#started = true;
    subscriber.on('message', this.#onMessage);
    subscriber.on('ready', this.#onReady);
    this.ready = whenReady(subscriber)
      .then(() => subscriber.subscribe(this.#channel))
      .then(
      () => {
        this.#subscribedOnce = true;
      },
      (error: unknown) => this.#options.logger.warn({ err: error }, 'key revocation subscription failed'),
    );
    return this.ready;
  }

  /** Stops listening; the subscriber connection itself is closed by whoever created it. */
  async stop(): Promise<void> {
    const subscriber = this.#options.subscriber;
    if (!subscriber || !this.#started) return;
    this.#started = false;
    subscriber.off('message', this.#onMessage);
    subscriber.off('ready', this.#onReady);
    if (subscriber.status === 'ready') await subscriber.unsubscribe(this.#channel).catch(() => undefined);
  }

  /** Called with a key's id when it is revoked (query-api closes that key's open streams). */
  onRevoked(listener: (keyId: string) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Forgets a key in this process and tells the listeners; what a revocation message does. */
  forget(keyId: string): void {
    this.#epoch += 1;
    this.#hits.deleteWhere((hit) => hit.identity.keyId === keyId);
    for (const listener of this.#listeners) {
      try {
        listener(keyId);
      } catch (error) {
        this.#options.logger.warn({ err: error }, 'key revocation listener failed');
      }
    }
  }

  async #lookup(digest: string, key: string, now: number): Promise<KeyIdentity | undefined> {
    const epoch = this.#epoch;
    let identity: KeyIdentity | undefined;
    try {
      identity = await findKeyByHash(this.#options.db, hashApiKey(key));
    } catch (error) {
      throw unavailable('cannot verify the API key right now', error);
    }
    if (epoch === this.#epoch) {
      if (identity) this.#hits.set(digest, { identity, expires: now + this.#ttlMs });
      else this.#misses.set(digest, now + this.#ttlMs);
    }
    return identity;
  }

  /** The limiter fails open: a Redis hiccup must not lock every client out. */
  async #limiterCall<T>(call: () => Promise<T>): Promise<T | undefined> {
    try {
      return await call();
    } catch (error) {
      this.#limiterErrors.warn('limiter', { err: error }, 'failed-authentication limit skipped: Redis did not answer');
      return undefined;
    }
  }

  readonly #onMessage = (channel: string, message: string): void => {
    if (channel === this.#channel) this.forget(message);
  };

  /** Revocations published while the subscription was down were missed: trust nothing cached. */
  readonly #onReady = (): void => {
    if (!this.#subscribedOnce) return;
    this.#epoch += 1;
    this.#hits.clear();
    this.#misses.clear();
  };
}

/**
 * The cache key of a key: its SHA-256, never the key itself; none for a key of the wrong shape. Every
 * request pays it, so it is the one-shot hash (0.4–0.8 µs), not a Hash object per call (2.3–3.6 µs):
 * createHash was 4 % of command-api's CPU in the bench's fleet phase (V8 profile, 2026-12-03).
 */
function digestOf(key: string | undefined): string | undefined {
  return key !== undefined && isWellFormedApiKey(key) ? hash('sha256', key, 'base64') : undefined;
}

function stripScheme(credential: string): string {
  const match = /^Bearer[ \t]+(\S*)[ \t]*$/i.exec(credential);
  return match ? (match[1] as string) : credential.trim();
}
