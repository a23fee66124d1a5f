import type { FastifyReply } from 'fastify';
import type { QueryMetrics } from '../model/query-metrics.ts';
import type { ReadMeta } from '../model/read-meta.ts';
import { numberJson } from '../reads/buckets-json.ts';

/** Every read answers with `meta` in the body and the same facts in `X-Read-*` headers, and is counted. */
export function sendRead<T extends object>(metrics: Pick<QueryMetrics, 'reads'>, reply: FastifyReply, meta: ReadMeta, body: T): T & { meta: ReadMeta } {
  metrics.reads.inc({ source: meta.source, consistency: meta.consistency });
  void reply.header('x-read-source', meta.source).header('x-read-lag-ms', String(meta.lagMs));
  return { ...body, meta };
}

/**
 * As sendRead, for a body whose large array is already JSON text (decision 0099): the body is written
 * here, in the order the route's response schema serializer wrote it (the required `fields`, then the
 * array, then `meta`, then the `optionalFields` present), and sent as it is, past the serializer.
 * Both field sets are the body's string properties.
 */
export function sendReadJson(
  metrics: Pick<QueryMetrics, 'reads'>,
  reply: FastifyReply,
  meta: ReadMeta,
  fields: Record<string, string>,
  array: { name: string; json: string },
  optionalFields: Record<string, string> = {},
): FastifyReply {
  metrics.reads.inc({ source: meta.source, consistency: meta.consistency });
  let body = '{';
  for (const [name, value] of Object.entries(fields)) body += `${JSON.stringify(name)}:${JSON.stringify(value)},`;
  // lagMs as the serializer wrote it: a NaN is refused (a 500), not sent as null as JSON.stringify would.
  body += `${JSON.stringify(array.name)}:${array.json},"meta":{"source":${JSON.stringify(meta.source)},"consistency":${JSON.stringify(meta.consistency)},"lagMs":${numberJson(meta.lagMs)}}`;
  // The schema serializer writes optional properties after the required ones.
  for (const [name, value] of Object.entries(optionalFields)) body += `,${JSON.stringify(name)}:${JSON.stringify(value)}`;
  body += '}';
  return reply
    .header('x-read-source', meta.source)
    .header('x-read-lag-ms', String(meta.lagMs))
    .type('application/json; charset=utf-8')
    .send(body);
}
