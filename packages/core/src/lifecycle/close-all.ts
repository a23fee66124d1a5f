import type { Logger } from '../logging/create-logger.ts';

/**
 * Closes resources in the order given (callers list them in reverse order of creation), carrying
 * on past failures so one broken connection never leaves the others open.
 */
export async function closeAll(logger: Logger, closers: [string, () => Promise<unknown>][]): Promise<void> {
  for (const [name, close] of closers) {
    try {
      await close();
    } catch (error) {
      logger.warn({ err: error, resource: name }, 'close failed');
    }
  }
}
