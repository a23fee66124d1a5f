import type { FastifyInstance } from 'fastify';
import type { Config } from '@strata/core';
import type { OpsDeps } from '../deps.ts';
import { collectHealth } from '../health/collect-health.ts';
import { queryApiUrlFor } from '../health/query-api-url-for.ts';

export interface HealthRouteDeps extends Pick<OpsDeps, 'pool' | 'queueRedis' | 'cacheRedis' | 'ingestQueue' | 'clock'> {
  config: Pick<Config, 'replicas' | 'host' | 'queryApiPort'>;
}

/** `GET /health`: the same report as `pnpm ops health`, 503 when any check fails. */
export function registerHealthRoute(app: FastifyInstance, deps: HealthRouteDeps): void {
  app.get('/health', async (_request, reply) => {
    const report = await collectHealth({ ...deps, queryApiUrl: queryApiUrlFor(deps.config) });
    return reply.code(report.status === 'ok' ? 200 : 503).send(report);
  });
}
