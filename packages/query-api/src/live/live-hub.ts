import { AppError, defineLiveWatchCommand, queueLiveWatch, redisKeys, setLiveWatch, unavailable, whenReady, type Logger, type Redis } from '@strata/core';
import { updateFromMessage, type LiveUpdate } from './live-update.ts';

/** One open stream as the hub sees it. */
export interface LiveClient {
  tenantId: string;
  /** The key that opened the stream: revoking the key ends it (`endKey`). */
  keyId: string;
  deliver(update: LiveUpdate): void;
  /** Ends the client's stream (shutdown, subscription lost, key revoked). */
  close(reason: string): void;
  /** Bytes written to the client and not yet taken by its socket. */
  bufferedBytes(): number;
}

export interface LiveHubOptions {
  /** A connection of its own: a subscribed connection can run no other command. */
  subscriber: Redis;
  /** The cache Redis, where the projector reads each tenant's watch key (redisKeys.liveWatch). */
  cache: Redis;
  /** LIVE_RESUME_SECONDS: how long a tenant stays watched after its last client on this process left. */
  resumeSeconds: number;
  prefix: string;
  logger: Logger;
  /** Open streams one tenant may hold on this process, and all tenants together. */
  streamsPerTenant: number;
  streamsTotal: number;
}

/**
 * One pattern subscription per query-api process to every tenant's live channel, fanned out to the
 * SSE clients of this process. However many clients connect, the projector publishes each update
 * once. Messages published while the subscription is down are not received; when it comes back the
 * hub ends every client's stream, and their EventSource reconnects with Last-Event-ID and is
 * replayed the gap from the tenant's stream.
 *
 * Every open stream holds a socket and up to STREAM_MAX_BUFFER_BYTES of this process's memory, so
 * the hub admits at most `streamsPerTenant` per tenant (429: that tenant's own doing) and
 * `streamsTotal` in all (503 with Retry-After: this instance is full, another may not be).
 *
 * The projector logs and publishes a tenant's updates only while it is watched (decision 0087, core's
 * redis/live-watch.ts). The hub marks it watched for `resumeSeconds` before a stream answers, renews
 * the mark while the tenant has clients here (every third of that, at most every 10 s), and once more
 * when its last client here leaves, so the mark outlives the last client of every process by
 * `resumeSeconds`: a client that reconnects within them is replayed all it missed.
 */
export class LiveHub {
  readonly #byTenant = new Map<string, Set<LiveClient>>();
  readonly #all = new Set<LiveClient>();
  readonly #channelPrefix: string;
  #subscribedOnce = false;
  readonly #options: LiveHubOptions;
  #renewal: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(options: LiveHubOptions) {
    this.#options = options;
    this.#channelPrefix = redisKeys.liveChannelPrefix(options.prefix);
    defineLiveWatchCommand(options.cache);
  }

  /**
   * Marks the tenant watched; a stream must not answer before it resolves (the projector skips the
   * updates of a tenant that is not). Throws when the cache Redis does not take it.
   */
  async watch(tenantId: string): Promise<void> {
    const { cache, prefix, resumeSeconds } = this.#options;
    await setLiveWatch(cache, prefix, tenantId, resumeSeconds);
  }

  /** Renews the mark of every tenant with a client here, in one round trip. */
  async renewWatches(): Promise<void> {
    if (this.#byTenant.size === 0) return;
    const { cache, prefix, resumeSeconds } = this.#options;
    const pipeline = cache.pipeline();
    for (const tenantId of this.#byTenant.keys()) queueLiveWatch(pipeline, prefix, tenantId, resumeSeconds);
    const results = (await pipeline.exec()) ?? [];
    const failed = results.find(([error]) => error);
    if (failed) throw failed[0];
  }

  /** Resolves once the subscription is active; a Redis that is down delays it, never the caller. */
  ready: Promise<void> = Promise.resolve();

  /** Subscribes in the background: readiness of the query API does not depend on live updates. */
  start(): void {
    const { subscriber, logger, prefix, resumeSeconds } = this.#options;
    // A renewal that fails is retried at the next one; the key has two more thirds of its time to live.
    this.#renewal = setInterval(() => {
      this.renewWatches().catch((error: unknown) => logger.warn({ err: error }, 'could not renew live watch marks'));
    }, Math.min(10_000, Math.floor((resumeSeconds * 1000) / 3)));
    this.#renewal.unref();
    subscriber.on('pmessage', (_pattern: string, channel: string, message: string) => this.#deliver(channel, message));
    subscriber.on('ready', () => {
      if (this.#subscribedOnce) this.endAll('live subscription re-established');
    });
    this.ready = whenReady(subscriber)
      .then(() => subscriber.psubscribe(redisKeys.liveChannelPattern(prefix)))
      .then(
      () => {
        this.#subscribedOnce = true;
      },
      (error: unknown) => logger.warn({ err: error }, 'live subscription failed'),
    );
  }

  /**
   * Admits and registers a client, or throws 429 / 503 when a limit is reached. Checking and
   * registering in one synchronous step means concurrent requests can never pass the limit together.
   * Returns the function that unregisters it.
   */
  subscribe(client: LiveClient): () => void {
    if (this.#stopped) throw unavailable('this instance is shutting down; reconnect to another');
    const tenant = this.#byTenant.get(client.tenantId) ?? new Set<LiveClient>();
    if (tenant.size >= this.#options.streamsPerTenant) {
      throw new AppError(429, 'too_many_streams', `this tenant already has ${this.#options.streamsPerTenant} open live streams; close one first`, {
        headers: { 'retry-after': '5' },
      });
    }
    if (this.#all.size >= this.#options.streamsTotal) {
      throw new AppError(503, 'unavailable', 'this instance serves no more live streams right now; retry later', {
        headers: { 'retry-after': '5' },
      });
    }
    tenant.add(client);
    this.#byTenant.set(client.tenantId, tenant);
    this.#all.add(client);
    return () => {
      tenant.delete(client);
      if (tenant.size === 0 && this.#byTenant.get(client.tenantId) === tenant) {
        this.#byTenant.delete(client.tenantId);
        // The resume window starts now, not at the last renewal.
        this.watch(client.tenantId).catch((error: unknown) => this.#options.logger.warn({ err: error }, 'could not renew a live watch mark'));
      }
      this.#all.delete(client);
    };
  }

  get clients(): number {
    return this.#all.size;
  }

  /** Open streams of one tenant on this process. */
  tenantClients(tenantId: string): number {
    return this.#byTenant.get(tenantId)?.size ?? 0;
  }

  /** Unsent bytes over every client: bounded by clients × (STREAM_MAX_BUFFER_BYTES + one update). */
  bufferedBytes(): number {
    let total = 0;
    for (const client of this.#all) total += client.bufferedBytes();
    return total;
  }

  /** Refuses new clients and stops renewing marks (shutdown); the marks lapse on their own. */
  stop(): void {
    this.#stopped = true;
    clearInterval(this.#renewal);
    this.#renewal = undefined;
  }

  /** Ends every client's stream; used at shutdown so the HTTP server can close. */
  endAll(reason: string): void {
    if (this.#all.size > 0) this.#options.logger.info({ clients: this.#all.size, reason }, 'ending live streams');
    for (const client of [...this.#all]) client.close(reason);
  }

  /** Ends every stream opened with this key: a revoked key must stop receiving at once. */
  endKey(keyId: string, reason: string): number {
    const clients = [...this.#all].filter((client) => client.keyId === keyId);
    if (clients.length > 0) this.#options.logger.info({ keyId, clients: clients.length, reason }, 'ending live streams of a key');
    for (const client of clients) client.close(reason);
    return clients.length;
  }

  #deliver(channel: string, message: string): void {
    if (!channel.startsWith(this.#channelPrefix)) return;
    const clients = this.#byTenant.get(channel.slice(this.#channelPrefix.length));
    if (!clients) return;
    // The message is passed on as the projector published it (the changed values only): it is
    // parsed once for its id and device, never re-encoded per client.
    const update = updateFromMessage(message);
    if (!update) return;
    for (const client of [...clients]) client.deliver(update);
  }
}
