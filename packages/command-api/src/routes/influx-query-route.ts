import type { FastifyInstance } from 'fastify';
import { AppError } from '@strata/core';
import { Type } from 'typebox';
import { bodyBytes } from '../transports/line-protocol/prepare-line-protocol-scope.ts';
import { InfluxV1Error, documentOnly, influxErrorResponses } from './write-schemas.ts';

/** The one InfluxQL statement answered: `CREATE DATABASE <name> [WITH ...]`, with or without IF NOT EXISTS. */
const CREATE_DATABASE = /^CREATE\s+DATABASE\s+(?:IF\s+NOT\s+EXISTS\s+)?(?:"(?:[^"\\]|\\.)*"|[A-Za-z_]\w*)(?:\s+WITH\s[\s\S]*)?$/i;
/** A form body holds at most a statement or two: nothing near MAX_BODY_BYTES. */
const QUERY_BODY_LIMIT = 64 * 1024;

const schema = {
  tags: ['line protocol'],
  summary: 'CREATE DATABASE, as InfluxDB 1.x answers it',
  description:
    'Telegraf and the `influx` CLI create their database before writing. `q` comes from the query string or a form body ' +
    '(`application/x-www-form-urlencoded`, `q=...`, up to 64 KiB). Strata keeps no databases (the key names the tenant), so ' +
    'there is nothing to create; any statement other than `CREATE DATABASE` is a 400 saying where reads go.',
  querystring: Type.Object({
    q: Type.Optional(Type.String({ description: 'InfluxQL: `CREATE DATABASE <name>` statements, `;`-separated' })),
    db: Type.Optional(Type.String({ description: 'accepted and unused' })),
  }),
  response: {
    200: Type.Object(
      { results: Type.Array(Type.Object({ statement_id: Type.Integer() })) },
      { description: 'one result per statement, as InfluxDB answers' },
    ),
    ...influxErrorResponses(InfluxV1Error, 400, 401, 403, 413, 415, 429, 500, 503),
  },
};

/**
 * `POST /query` (and GET) as far as 1.x writers use it: Telegraf and the influx CLI create their
 * database before writing, so `CREATE DATABASE` (in `q`, from the query string or a form body) is
 * answered as InfluxDB 1.x does. Strata keeps no databases (the key names the tenant), so there is
 * nothing to create. Every other statement is a 400 saying where reads go.
 */
export function registerInfluxQueryRoute(app: FastifyInstance): void {
  app.route({
    method: ['GET', 'POST'],
    url: '/query',
    bodyLimit: QUERY_BODY_LIMIT,
    config: { access: 'write', keyFrom: 'influx' },
    // The handler reads `q` from the query or the body itself and answers in InfluxDB's words.
    schema,
    validatorCompiler: documentOnly,
    handler: async (request, reply) => {
      const fromQuery = (request.query as Record<string, unknown>).q;
      const q = typeof fromQuery === 'string' ? fromQuery : new URLSearchParams(bodyBytes(request.body).toString('utf8')).get('q');
      if (q === null || q.trim() === '') throw new AppError(400, 'invalid', 'missing required parameter "q"');
      const statements = q.split(';').map((statement) => statement.trim()).filter((statement) => statement !== '');
      const refused = statements.find((statement) => !CREATE_DATABASE.test(statement));
      if (refused !== undefined) {
        throw new AppError(400, 'invalid', `Strata answers only CREATE DATABASE here (there is nothing to create: the API key names the tenant), not ${JSON.stringify(refused.slice(0, 64))}; read data through the query API`);
      }
      return reply.code(200).send({ results: statements.map((_, index) => ({ statement_id: index })) });
    },
  });
}
