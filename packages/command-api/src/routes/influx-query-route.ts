import type { FastifyInstance } from 'fastify';
import { AppError } from '@strata/core';
import { bodyBytes } from '../transports/line-protocol/prepare-line-protocol-scope.ts';

/** The one InfluxQL statement answered: `CREATE DATABASE <name> [WITH ...]`, with or without IF NOT EXISTS. */
const CREATE_DATABASE = /^CREATE\s+DATABASE\s+(?:IF\s+NOT\s+EXISTS\s+)?(?:"(?:[^"\\]|\\.)*"|[A-Za-z_]\w*)(?:\s+WITH\s[\s\S]*)?$/i;
/** A form body holds at most a statement or two: nothing near MAX_BODY_BYTES. */
const QUERY_BODY_LIMIT = 64 * 1024;

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
