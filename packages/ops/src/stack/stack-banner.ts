import type { Config } from '@strata/core';

/** What a newcomer needs after `pnpm start`: where everything answers and how to get an API key. */
export function stackBanner(config: Config, databaseUrl: string, redisUrl: string): string {
  // When the stack had to complete the URL (private cluster), other shells need the same one.
  const envPrefix = databaseUrl === config.databaseUrl ? '' : `DATABASE_URL=${databaseUrl} `;
  const base = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}`;
  const safeDb = new URL(databaseUrl);
  if (safeDb.password) safeDb.password = '***';
  return [
    '',
    'Strata is running',
    `  command-api     ${base}:${config.commandApiPort}   (POST /v1/events; line protocol: POST /api/v2/write)`,
    ...(config.mqttPort > 0 ? [`  MQTT            mqtt://${config.host.includes(':') ? `[${config.host}]` : config.host}:${config.mqttPort}   (v1/devices/<device>/telemetry)`] : []),
    `  query-api       ${base}:${config.queryApiPort}   (GET /v1/devices/...)`,
    `  ops             ${base}:${config.opsPort}   (status page; /health, /metrics)`,
    `  projector       ${base}:${config.projectorMetricsPort}   (/metrics)`,
    `  postgres        ${safeDb.toString()}`,
    `  redis           ${redisUrl}`,
    '',
    `Create a tenant and API key:  ${envPrefix}pnpm --silent ops tenant create "my tenant"`,
    'Press Ctrl-C to stop.',
    '',
  ].join('\n');
}
