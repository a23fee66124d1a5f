import { AppError, redisKeys, whenReady, type Logger, type Redis } from '@strata/core';
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
 */
export class LiveHub {
  readonly #byTenant = new Map<string, Set<LiveClient>>();
  readonly #all = new Set<LiveClient>();
  readonly #channelPrefix: string;
  #subscribedOnce = false;
  readonly #options: LiveHubOptions;

  constructor(options: LiveHubOptions) {
    this.#options = options;
    this.#channelPrefix = redisKeys.liveChannelPrefix(options.prefix);
  }

  /** Resolves once the subscription is active; a Redis that is down delays it, never the caller. */
  ready: Promise<void> = Promise.resolve();

  /** Subscribes in the background: readiness of the query API does not depend on live updates. */
  start(): void {
    const { subscriber, logger, prefix } = this.#options;
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
      if (tenant.size === 0 && this.#byTenant.get(client.tenantId) === tenant) this.#byTenant.delete(client.tenantId);
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
