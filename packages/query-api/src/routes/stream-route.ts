import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { errorResponses, forbidden, isDeviceBound, requireDevice, unavailable, type Config, type Logger, type Redis } from '@strata/core';
import type { LiveHub } from '../live/live-hub.ts';
import { compareStreamIds, STREAM_ID_PATTERN, type LiveUpdate } from '../live/live-update.ts';
import { readLiveEntries } from '../live/read-live-entries.ts';
import { SseConnection } from '../live/sse-connection.ts';
import type { QueryMetrics } from '../model/query-metrics.ts';
import { StreamQuery } from './schemas.ts';

const schema = {
  tags: ['live'],
  summary: 'Live updates (Server-Sent Events)',
  description:
    'Each `event: update` carries the changed values and their `ts` (`data`, JSON) with the update\'s `id`; send `Last-Event-ID` to be ' +
    'replayed what was missed, then continue live. Comment lines keep idle connections open. At most STREAMS_PER_TENANT open per ' +
    'tenant (429); a client that stops reading is disconnected. The key as `Authorization: Bearer` or, for EventSource, `access_token`.',
  querystring: StreamQuery,
  headers: Type.Object({ 'last-event-id': Type.Optional(Type.String({ description: 'resume after this update id' })) }),
  security: [{ bearer: [] }, { accessToken: [] }] as Array<Record<string, string[]>>,
  response: {
    200: { description: 'the stream, until either side closes it', content: { 'text/event-stream': { schema: Type.String() } } },
    ...errorResponses(400, 401, 403, 429, 500, 503),
  },
};

export interface StreamRouteDeps {
  live: {
    hub: Pick<LiveHub, 'subscribe' | 'watch'>;
    /** Comment lines this often keep idle SSE connections open through proxies. */
    heartbeatMs: number;
    /** The `retry:` advice to EventSource clients: how soon to reconnect after a drop. */
    retryMs: number;
  };
  /** The cache Redis, holding each tenant's replayable stream of updates. */
  cache: Redis;
  metrics: Pick<QueryMetrics, 'streamClients' | 'streamsEnded'>;
  config: Pick<Config, 'streamMaxBufferBytes' | 'redisPrefix'>;
  logger: Logger;
}

/**
 * `GET /v1/stream?device=`: Server-Sent Events of the tenant's live updates (`event: update`, `id` =
 * the update's entry in the tenant's Redis stream; `data` = the projector's message, the changed
 * values only), optionally for one device, with a comment line every few seconds so proxies keep
 * the connection open. With `Last-Event-ID` the client is first replayed what it missed from the
 * stream, then continues live: it subscribes before replaying and skips anything not newer than the
 * last id it sent, so nothing is lost or sent twice across the seam.
 * Limits (LiveHub, SseConnection): STREAMS_PER_TENANT open per tenant (429), STREAMS_TOTAL per
 * process (503 + Retry-After), STREAM_MAX_BUFFER_BYTES unsent per client (then disconnected).
 * A key bound to one device may stream only that device, so `device=` is required for it.
 * The framing is written directly (a handful of lines) because replay-then-live needs control of
 * the order of writes that an SSE plugin's async-iterator API does not add anything to.
 */
export function registerStreamRoute(app: FastifyInstance, deps: StreamRouteDeps): void {
  app.withTypeProvider<TypeBoxTypeProvider>().get('/stream', { config: { access: 'read' }, schema }, async (request, reply) => {
    const { device } = request.query;
    const auth = request.auth;
    if (isDeviceBound(auth)) {
      if (device === undefined) throw forbidden('this key is bound to one device: add ?device=<its device>');
      requireDevice(auth, device);
    }
    if (deps.cache.status !== 'ready') throw unavailable('live updates are unavailable: the cache Redis is down');
    const header = request.headers['last-event-id'];
    const resumeFrom = typeof header === 'string' && STREAM_ID_PATTERN.test(header) ? header : undefined;
    const tenantId = auth.tenantId;
    const maxBufferBytes = deps.config.streamMaxBufferBytes;

    let lastSent = resumeFrom;
    let replaying = resumeFrom !== undefined;
    const held: LiveUpdate[] = [];
    let heldBytes = 0;
    let connection: SseConnection | undefined;
    // Why the hub ended the stream before it had a connection (its key revoked, shutdown): it must not
    // answer 200 after that.
    let endedEarly: string | undefined;
    const send = (update: LiveUpdate): void => {
      if (!connection || connection.ended) return;
      if (lastSent !== undefined && compareStreamIds(update.id, lastSent) <= 0) return;
      lastSent = update.id;
      if (device !== undefined && update.device !== device) return;
      connection.write(`id: ${update.id}\nevent: update\ndata: ${update.data}\n\n`);
    };
    // Admission throws (429/503) before anything is written, so a refused client gets a plain answer.
    const unsubscribe = deps.live.hub.subscribe({
      tenantId,
      keyId: auth.keyId,
      deliver: (update) => {
        if (!replaying) return send(update);
        // Live updates wait while the gap is replayed; they are bounded like the socket's buffer.
        held.push(update);
        heldBytes += update.data.length;
        if (heldBytes > maxBufferBytes) connection?.end('slow');
      },
      close: (reason) => {
        if (connection) connection.end(reason);
        else endedEarly ??= reason;
      },
      bufferedBytes: () => connection?.bufferedBytes ?? 0,
    });
    // The projector writes a tenant's updates only while its watch key exists: set it before the
    // client hears it is connected, or its first updates could be skipped (decision 0087).
    try {
      await deps.live.hub.watch(tenantId);
    } catch (error) {
      unsubscribe();
      throw unavailable('live updates are unavailable: the cache Redis did not answer', error);
    }
    if (endedEarly !== undefined) {
      unsubscribe();
      throw unavailable(`the stream was ended before it began (${endedEarly}); retry`);
    }

    reply.hijack();
    const response = reply.raw;
    response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    const heartbeat = setInterval(() => connection?.write(': heartbeat\n\n'), deps.live.heartbeatMs);
    deps.metrics.streamClients.inc();
    connection = new SseConnection(response, maxBufferBytes, (reason) => {
      clearInterval(heartbeat);
      unsubscribe();
      held.length = 0;
      deps.metrics.streamClients.dec();
      deps.metrics.streamsEnded.inc({ reason: reason === 'closed' || reason === 'slow' ? reason : 'server' });
    });
    connection.write(`retry: ${deps.live.retryMs}\n\n`);

    if (resumeFrom !== undefined) {
      try {
        for (;;) {
          const page = await readLiveEntries(deps.cache, deps.config.redisPrefix, tenantId, lastSent ?? resumeFrom);
          for (const update of page) {
            await connection.writable();
            send(update);
          }
          if (page.length === 0 || connection.ended) break;
        }
      } catch (error) {
        // Without the replay the client would miss updates silently; ending makes it reconnect and retry.
        deps.logger.warn({ err: error }, 'live stream replay failed');
        connection.end('replay failed');
        return;
      }
      replaying = false;
      for (const update of held.splice(0)) send(update);
      heldBytes = 0;
    }
  });
}
