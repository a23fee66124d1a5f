import type { Config } from '@strata/core';

/** The query API to ask about replica routing; none when no replicas are configured. */
export function queryApiUrlFor(config: Pick<Config, 'replicas' | 'host' | 'queryApiPort'>): string | undefined {
  if (config.replicas.length === 0) return undefined;
  const host = config.host === '0.0.0.0' ? '127.0.0.1' : config.host;
  return `http://${host}:${config.queryApiPort}`;
}
