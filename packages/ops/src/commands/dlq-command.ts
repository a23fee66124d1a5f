import type { Config } from '@strata/core';
import type { CliIo } from '../cli-io.ts';
import { deleteDeadLetters } from '../queries/delete-dead-letters.ts';
import { listDeadLetters } from '../queries/list-dead-letters.ts';
import { dlqJobsCommand } from './dlq-jobs-command.ts';
import { retryDeadLetters } from './retry-dead-letters.ts';
import { withCliPool } from './with-cli-pool.ts';
import { withCliQueue } from './with-cli-queue.ts';

const USAGE = `usage: pnpm ops dlq list | dlq retry <id>...|--all | dlq drop <id>...|--all
       pnpm ops dlq jobs list [--json] | dlq jobs retry <job-id>|--all | dlq jobs drop <job-id>
`;
const PAGE = 1000;
/** How long `retry` waits for the projector to apply each retry batch. */
const RETRY_WAIT_MS = 60_000;

/**
 * Dead letters are single events the database refused after they were acknowledged, each with its
 * reason (the projector isolates them from their batch, whose other events are projected). They
 * live in the `dead_letters` table with their own copy of the event, so they pin no partition, no
 * staged row and no queue job. `list` prints one JSON line per event; `retry` projects them again
 * through the projector (it must be running) and removes those that now project, keeping the others
 * with their new reason; `drop` gives them up. `dlq jobs` handles BullMQ's failed set (whole jobs).
 */
export async function dlqCommand(args: string[], config: Config, io: CliIo): Promise<number> {
  const [action, ...rest] = args;
  if (action === 'jobs') return dlqJobsCommand(rest, config, io);
  if (action === 'list' && rest.every((arg) => arg === '--json')) return withCliPool(config, (pool) => list(pool, io));
  const ids = targets(rest);
  if (action === 'retry' && ids !== undefined) {
    return withCliPool(config, (pool) =>
      withCliQueue(config, async (queue) => {
        const summary = await retryDeadLetters(pool, queue, ids, { attempts: config.projectorBatchAttempts, waitMs: RETRY_WAIT_MS });
        io.stdout.write(`${JSON.stringify(summary)}\n`);
        if (ids !== null && summary.retried < ids.length) io.stderr.write(`ops dlq: ${ids.length - summary.retried} of the ids are not dead letters\n`);
        return summary.pending > 0 || (ids !== null && summary.retried < ids.length) ? 1 : 0;
      }),
    );
  }
  if (action === 'drop' && ids !== undefined) {
    return withCliPool(config, async (pool) => {
      const dropped = await deleteDeadLetters(pool, ids);
      io.stdout.write(`${JSON.stringify({ dropped })}\n`);
      if (ids !== null && dropped < ids.length) io.stderr.write(`ops dlq: ${ids.length - dropped} of the ids are not dead letters\n`);
      return ids !== null && dropped === 0 ? 1 : 0;
    });
  }
  io.stderr.write(USAGE);
  return 2;
}

/** `--all` → null (every dead letter); ids → the ids; anything else → undefined (usage error). */
function targets(args: string[]): string[] | null | undefined {
  if (args.length === 1 && args[0] === '--all') return null;
  if (args.length === 0 || !args.every((arg) => /^[1-9]\d{0,17}$/.test(arg))) return undefined;
  return args;
}

async function list(pool: Parameters<typeof listDeadLetters>[0], io: CliIo): Promise<number> {
  let afterId = '0';
  for (;;) {
    const page = await listDeadLetters(pool, afterId, PAGE);
    for (const letter of page) io.stdout.write(`${JSON.stringify(letter)}\n`);
    if (page.length < PAGE) return 0;
    afterId = page.at(-1)?.id ?? afterId;
  }
}
