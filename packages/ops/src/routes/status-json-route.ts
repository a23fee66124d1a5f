import type { FastifyInstance } from 'fastify';
import type { Config } from '@strata/core';
import type { OpsDeps } from '../deps.ts';
import { collectStatus } from '../status/collect-status.ts';
import type { StatusReport } from '../status/status-report.ts';

/** How long one reading answers every poll (the page polls every 2 s). */
const REUSE_MS = 1000;

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
  const sources = { pool: deps.pool, ingestQueue: deps.ingestQueue, clock: deps.clock, retentionDays: config.retentionDays, queryApiUrl, configuredReplicas: config.replicas.length };
  // Anyone who reaches the port may poll: every request within REUSE_MS of a reading (or while one is
  // under way) gets that reading, so a hundred open pages, or a loop, cost one reading a second.
  // A reading still under way is shared however long it takes (a slow database never gets a pile of
  // them); one that has ended answers for REUSE_MS after its end. collectStatus never rejects.
  let latest: { endedAt: number | null; report: Promise<StatusReport> } | undefined;
  app.get('/status.json', { logLevel: 'warn' }, async (_request, reply): Promise<StatusReport> => {
    void reply.header('cache-control', 'no-store');
    if (!latest || (latest.endedAt !== null && deps.clock.now() - latest.endedAt >= REUSE_MS)) {
      const reading: { endedAt: number | null; report: Promise<StatusReport> } = { endedAt: null, report: collectStatus(sources) };
      void reading.report.finally(() => {
        reading.endedAt = deps.clock.now();
      });
      latest = reading;
    }
    return latest.report;
  });
}
