import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { unavailable } from '@strata/core';
import type { Deps } from '../deps.ts';
import { compareStreamIds, STREAM_ID_PATTERN, type LiveUpdate } from '../live/live-update.ts';
import { readLiveEntries } from '../live/read-live-entries.ts';
import { StreamQuery } from './schemas.ts';

/**
 * `GET /v1/stream?device=`: Server-Sent Events of the tenant's live updates (`event: update`, `id` =
 * the update's entry in the tenant's Redis stream), optionally for one device, with a comment line
 * every few seconds so proxies keep the connection open. With `Last-Event-ID` the client is first
 * replayed what it missed from the stream, then continues live: it subscribes before replaying and
 * skips anything not newer than the last id it sent, so nothing is lost or sent twice across the seam.
 * The framing is written directly (a handful of lines) because replay-then-live needs control of
 * the order of writes that an SSE plugin's async-iterator API does not add anything to.
 */
export function streamRoute(deps: Deps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get('/stream', { config: { access: 'read' }, schema: { querystring: StreamQuery } }, async (request, reply) => {
      if (deps.cache.status !== 'ready') throw unavailable('live updates are unavailable: the cache Redis is down');
      const header = request.headers['last-event-id'];
      const resumeFrom = typeof header === 'string' && STREAM_ID_PATTERN.test(header) ? header : undefined;
      const { device } = request.query;
      const tenantId = request.tenantId;
      reply.hijack();
      const response = reply.raw;
      response.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      response.write(`retry: ${deps.live.retryMs}\n\n`);

      let ended = false;
      let lastSent = resumeFrom;
      let replaying = resumeFrom !== undefined;
      const held: LiveUpdate[] = [];
      const send = (update: LiveUpdate): void => {
        if (ended) return;
        if (lastSent !== undefined && compareStreamIds(update.id, lastSent) <= 0) return;
        lastSent = update.id;
        if (device !== undefined && update.device !== device) return;
        response.write(`id: ${update.id}\nevent: update\ndata: ${update.data}\n\n`);
      };
      const end = (): void => {
        if (ended) return;
        ended = true;
        clearInterval(heartbeat);
        unsubscribe();
        deps.metrics.streamClients.dec();
        response.end();
      };
      const unsubscribe = deps.live.hub.subscribe(tenantId, (update) => (replaying ? held.push(update) : send(update)), end);
      const heartbeat = setInterval(() => response.write(': heartbeat\n\n'), deps.live.heartbeatMs);
      deps.metrics.streamClients.inc();
      request.raw.on('close', end);

      if (resumeFrom !== undefined) {
        try {
          for (;;) {
            const page = await readLiveEntries(deps.cache, deps.config.redisPrefix, tenantId, lastSent ?? resumeFrom);
            for (const update of page) send(update);
            if (page.length === 0 || ended) break;
          }
        } catch (error) {
          // Without the replay the client would miss updates silently; ending makes it reconnect and retry.
          deps.logger.warn({ err: error }, 'live stream replay failed');
          end();
          return;
        }
        replaying = false;
        for (const update of held.splice(0)) send(update);
      }
    });
  };
}
