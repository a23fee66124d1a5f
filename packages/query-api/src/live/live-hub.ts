import type { Logger, Redis } from '@strata/core';
import { updateFromMessage, type LiveUpdate } from './live-update.ts';

type Listener = (update: LiveUpdate) => void;

export interface LiveHubOptions {
  /** A connection of its own: a subscribed connection can run no other command. */
  subscriber: Redis;
  prefix: string;
  logger: Logger;
}

/**
 * One pattern subscription per query-api process to every tenant's live channel, fanned out to the
 * SSE clients of this process. However many clients connect, the projector publishes each update
 * once. Messages published while the subscription is down are not received; when it comes back the
 * hub ends every client's stream, and their EventSource reconnects with Last-Event-ID and is
 * replayed the gap from the tenant's stream.
 */
export class LiveHub {
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly closers = new Set<() => void>();
  private readonly channelPrefix: string;
  private subscribedOnce = false;
  private readonly options: LiveHubOptions;

  constructor(options: LiveHubOptions) {
    this.options = options;
    this.channelPrefix = `${options.prefix}:live:`;
  }

  /** Resolves once the subscription is active; a Redis that is down delays it, never the caller. */
  ready: Promise<void> = Promise.resolve();

  /** Subscribes in the background: readiness of the query API does not depend on live updates. */
  start(): void {
    const { subscriber, logger } = this.options;
    subscriber.on('pmessage', (_pattern: string, channel: string, message: string) => this.deliver(channel, message));
    subscriber.on('ready', () => {
      if (this.subscribedOnce) this.endAll('live subscription re-established');
    });
    this.ready = subscriber.psubscribe(`${this.channelPrefix}*`).then(
      () => {
        this.subscribedOnce = true;
      },
      (error: unknown) => logger.warn({ err: error }, 'live subscription failed'),
    );
  }

  /** Listens to a tenant's updates; `close` ends the client's stream (shutdown, subscription lost). */
  subscribe(tenantId: string, listener: Listener, close: () => void): () => void {
    const set = this.listeners.get(tenantId) ?? new Set<Listener>();
    set.add(listener);
    this.listeners.set(tenantId, set);
    this.closers.add(close);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(tenantId);
      this.closers.delete(close);
    };
  }

  get clients(): number {
    return this.closers.size;
  }

  /** Ends every client's stream; used at shutdown so the HTTP server can close. */
  endAll(reason: string): void {
    if (this.closers.size > 0) this.options.logger.info({ clients: this.closers.size, reason }, 'ending live streams');
    for (const close of [...this.closers]) close();
  }

  private deliver(channel: string, message: string): void {
    if (!channel.startsWith(this.channelPrefix)) return;
    const listeners = this.listeners.get(channel.slice(this.channelPrefix.length));
    if (!listeners) return;
    const update = updateFromMessage(message);
    if (!update) return;
    for (const listener of listeners) listener(update);
  }
}
