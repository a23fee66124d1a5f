import closeWithGrace from 'close-with-grace';
import type { Logger } from '../logging/create-logger.ts';

/**
 * On SIGTERM/SIGINT (or a fatal error) runs `close` once, under a hard timeout after which the
 * process exits anyway: a shutdown that hangs on a dead dependency must not hang forever.
 */
export function installShutdown(logger: Logger, close: () => Promise<void>, timeoutMs = 15_000): void {
  closeWithGrace({ delay: timeoutMs, logger }, async ({ signal, err }) => {
    if (err) logger.error({ err }, 'fatal error, shutting down');
    else logger.info({ signal }, 'shutting down');
    await close();
    logger.info('stopped');
  });
}
