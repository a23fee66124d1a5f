import type { Logger } from '../logging/create-logger.ts';
import { installShutdown } from './install-shutdown.ts';

/** What every service's `startXxx(deps)` returns, as far as shutdown is concerned. */
export interface StoppableService {
  stop(): Promise<void>;
}

/**
 * The end of every service's main.ts. The shutdown handler is in place before the service has
 * finished starting, so a signal during start-up (pg-boss's start, a slow listen) still stops in
 * order, and a start that fails is a fatal error like any other: logged, what it started stopped
 * (startXxx's own contract), the deps closed, exit status 1.
 */
export function runService(logger: Logger, start: () => Promise<StoppableService>, closeDeps: () => Promise<void>): void {
  const starting = start();
  installShutdown(logger, async () => {
    const service = await starting.catch(() => undefined);
    await service?.stop();
    await closeDeps();
  });
  // Deliberately not awaited: a failed start stays an unhandled rejection, which the handler above
  // (close-with-grace) takes as fatal.
}
