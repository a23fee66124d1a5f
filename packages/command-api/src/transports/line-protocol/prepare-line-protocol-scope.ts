import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError, type Config } from '@strata/core';
import type { IngestRateLimiter } from '../../ingest/ingest-rate-limiter.ts';
import { answerInfluxError } from './answer-influx-error.ts';
import { decompressBody } from './decompress-body.ts';

/**
 * The InfluxDB version the routes answer as (`X-Influxdb-Version`, `/ping?verbose`): the 1.x release
 * whose /write, /query and /ping answers they reproduce. The influx CLI prints it on connecting.
 */
export const INFLUX_VERSION = '1.8.10';

/** What the line-protocol routes receive as their body: the bytes, decompressed. */
export interface LineProtocolBody {
  bytes: Buffer;
}

/** The body's bytes; empty when the request had none. */
export function bodyBytes(body: unknown): Buffer {
  return typeof body === 'object' && body !== null && Buffer.isBuffer((body as LineProtocolBody).bytes) ? (body as LineProtocolBody).bytes : Buffer.alloc(0);
}

/**
 * Makes a Fastify scope answer as InfluxDB: bodies are taken as text/plain, form-encoded (what
 * `curl --data-binary` sends, and what InfluxDB takes as line protocol too) or without a Content-Type,
 * gzip undone within MAX_BODY_BYTES; errors in InfluxDB's shape; InfluxDB's version headers. Only the
 * routes registered in this scope are affected: /v1/events keeps its JSON-only parsers.
 */
export function prepareLineProtocolScope(scope: FastifyInstance, config: Pick<Config, 'maxBodyBytes'>, rateLimiter: Pick<IngestRateLimiter, 'chargeRefused' | 'takeOrOwe'>): void {
  // The 1.x Go client sends `Content-Type:` with an empty value, which Fastify answers 415 before any
  // parser runs; an empty type is no type.
  scope.addHook('onRequest', (request, _reply, done) => {
    if (request.headers['content-type']?.trim() === '') delete request.headers['content-type'];
    done();
  });
  scope.removeAllContentTypeParsers();
  const parse = (request: FastifyRequest, raw: Buffer, done: (error: Error | null, body?: LineProtocolBody) => void): void => {
    request.bodyAccounted = true;
    decompressBody(raw, request.headers['content-encoding'], config.maxBodyBytes).then(
      (bytes) => {
        // A body is charged what it sent or what it holds decompressed, whichever is more: gzip that
        // inflates to almost nothing (empty members, a long comment) would otherwise send megabytes
        // free (hostile review of 0126). What was not taken before the body was read (by its
        // Content-Length, when large) is taken before anything reads it, the query string's checks,
        // the parse (decision 0124), or, when little, owed and taken with the points (decision 0126).
        const charged = Math.max(raw.length, bytes.length) - request.bytesTaken;
        const taking = request.auth ? rateLimiter.takeOrOwe(request.auth.tenantId, Math.max(0, charged), request) : undefined;
        if (taking === undefined) return done(null, { bytes });
        taking.then(() => done(null, { bytes }), (error: unknown) => done(error as Error));
      },
      (error: unknown) => {
        // What was read, or decompressed before the bound stopped it, counts as a body taken would.
        const work = error instanceof AppError && error.status === 413 ? Math.max(config.maxBodyBytes, raw.length) : raw.length;
        if (request.auth) rateLimiter.chargeRefused(request.auth.tenantId, Math.max(0, work - request.bytesTaken));
        done(error as Error);
      },
    );
  };
  scope.addContentTypeParser(['text/plain', 'application/x-www-form-urlencoded'], { parseAs: 'buffer' }, (request, raw, done) => parse(request, raw as Buffer, done));
  // The catch-all is reached by a body without Content-Type, which is line protocol, and by any other
  // type, which is refused.
  scope.addContentTypeParser('*', { parseAs: 'buffer' }, (request, raw, done) => {
    const type = request.headers['content-type'];
    if (type !== undefined && type.trim() !== '') {
      request.bodyAccounted = true;
      if (request.auth) rateLimiter.chargeRefused(request.auth.tenantId, Math.max(0, (raw as Buffer).length - request.bytesTaken));
      const shown = JSON.stringify(type.slice(0, 64));
      return done(new AppError(415, 'unsupported_media_type', `Content-Type ${shown} is not line protocol: send text/plain or no Content-Type`), undefined);
    }
    parse(request, raw as Buffer, done);
  });
  scope.setErrorHandler(answerInfluxError);
  scope.addHook('onSend', (_request, reply, payload, done) => {
    void reply.header('x-influxdb-version', INFLUX_VERSION).header('x-influxdb-build', 'OSS');
    done(null, payload);
  });
}
