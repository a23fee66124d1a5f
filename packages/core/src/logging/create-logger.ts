import pino, { type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

/** JSON logs to stdout, one logger per process, named after the service so merged logs stay readable. */
export function createLogger(service: string, level: LevelWithSilent): Logger {
  return pino({ name: service, level, base: { service } });
}
