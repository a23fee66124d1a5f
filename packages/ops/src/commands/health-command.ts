import { createLogger, TimeoutError, withTimeout, type Config } from '@strata/core';
import type { CliIo } from '../cli-io.ts';
import { closeOpsDeps, createOpsDeps } from '../deps.ts';
import { queryApiUrlFor } from '../health/query-api-url-for.ts';
import { collectHealth } from '../health/collect-health.ts';

/** Closing clients of a dead Redis can wait on reconnects; the report is already out by then. */
const CLOSE_TIMEOUT_MS = 3000;

/** Prints the health report as JSON; exit 0 when healthy, 1 when any check fails. */
export async function healthCommand(config: Config, io: CliIo): Promise<number> {
  const deps = createOpsDeps(config, { logger: createLogger('ops', 'silent') });
  try {
    const report = await collectHealth({ ...deps, queryApiUrl: queryApiUrlFor(deps.config) });
    io.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return report.status === 'ok' ? 0 : 1;
  } finally {
    await withTimeout(closeOpsDeps(deps), CLOSE_TIMEOUT_MS, { keepAlive: false }).catch((error: unknown) => {
      if (!(error instanceof TimeoutError)) throw error;
    });
  }
}
