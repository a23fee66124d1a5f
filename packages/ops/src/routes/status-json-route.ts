import type { FastifyInstance } from 'fastify';
import type { Config } from '@strata/core';
import type { OpsDeps } from '../deps.ts';
import { collectStatus } from '../status/collect-status.ts';
import type { StatusReport } from '../status/status-report.ts';

export interface StatusJsonRouteDeps extends Pick<OpsDeps, 'pool' | 'ingestQueue' | 'clock'> {
  config: Pick<Config, 'host' | 'queryApiPort' | 'replicas' | 'retentionDays'>;
}

/**
 * `GET /status.json`: what the status page polls. Public like /metrics and /health, and like them
 * only counts and ages about the whole system (decision 0080); never cached by a browser or proxy.
 */
export function registerStatusJsonRoute(app: FastifyInstance, deps: StatusJsonRouteDeps): void {
  const { config } = deps;
  // ops and query-api share HOST; a wildcard bind is asked on loopback.
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  const queryApiUrl = `http://${host.includes(':') ? `[${host}]` : host}:${config.queryApiPort}`;
  app.get('/status.json', { logLevel: 'warn' }, async (_request, reply): Promise<StatusReport> => {
    void reply.header('cache-control', 'no-store');
    return collectStatus({
      pool: deps.pool,
      ingestQueue: deps.ingestQueue,
      clock: deps.clock,
      retentionDays: config.retentionDays,
      queryApiUrl,
      configuredReplicas: config.replicas.length,
    });
  });
}
