import type { FastifyReply } from 'fastify';
import type { QueryMetrics } from '../model/query-metrics.ts';
import type { ReadMeta } from '../model/read-meta.ts';

/** Every read answers with `meta` in the body and the same facts in `X-Read-*` headers, and is counted. */
export function sendRead<T extends object>(metrics: Pick<QueryMetrics, 'reads'>, reply: FastifyReply, meta: ReadMeta, body: T): T & { meta: ReadMeta } {
  metrics.reads.inc({ source: meta.source, consistency: meta.consistency });
  void reply.header('x-read-source', meta.source).header('x-read-lag-ms', String(meta.lagMs));
  return { ...body, meta };
}
