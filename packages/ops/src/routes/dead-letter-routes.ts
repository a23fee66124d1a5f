import type { FastifyInstance } from 'fastify';
import { forbidden, isDeviceBound, registerRouteAuthentication, tooManyRequests, type Config, type IngestJobData, type KeyIdentity } from '@strata/core';
import type { Queue } from 'bullmq';
import type { OpsDeps } from '../deps.ts';
import { retryDeadLetters, type RetrySummary } from '../commands/retry-dead-letters.ts';
import { countTenantDeadLetters } from '../queries/count-tenant-dead-letters.ts';
import { deleteTenantDeadLetters } from '../queries/delete-tenant-dead-letters.ts';
import { listTenantDeadLetters } from '../queries/list-tenant-dead-letters.ts';
import { selectTenantDeadLetterIds } from '../queries/select-tenant-dead-letter-ids.ts';
import { parseDeadLetterIds } from './parse-dead-letter-ids.ts';

export interface DeadLetterRoutesDeps extends Pick<OpsDeps, 'pool' | 'ingestQueue' | 'authenticator'> {
  config: Pick<Config, 'projectorBatchAttempts' | 'httpConnectionTimeoutMs'>;
}

/** How long a retry request waits for the projector to apply its batch before answering `pending`. */
const RETRY_WAIT_MS = 10_000;
/**
 * Retries this process runs at once. Each polls the primary until its batch is applied, through ops'
 * small pool (4 connections): without a bound, one key could fire hundreds and starve /health,
 * /metrics and the status page. An operator clicks one at a time; more is answered 429.
 */
const MAX_RETRIES_IN_FLIGHT = 2;

/**
 * The status page's dead-letter actions (decision 0080), each for the key's own tenant only: there is
 * no operator key, and a tenant's key must never reach another tenant's events (`pnpm ops dlq` on the
 * database is the cross-tenant tool). Listing needs a read or all key, retry and drop an all key;
 * the key comes as `Authorization: Bearer`, never a cookie, so another site cannot act with it (CSRF).
 */
export function registerDeadLetterRoutes(app: FastifyInstance, deps: DeadLetterRoutesDeps): void {
  // Its own plugin scope, so the key check guards these routes only, never the probes or the page.
  let retriesInFlight = 0;
  // The answer must come before the server closes the idle connection (HTTP_CONNECTION_TIMEOUT_MS).
  const waitMs = Math.min(RETRY_WAIT_MS, Math.floor(deps.config.httpConnectionTimeoutMs / 2));
  void app.register(async (scope) => {
    registerRouteAuthentication(scope, { authenticator: deps.authenticator });
    scope.addHook('onSend', async (_request, reply) => {
      void reply.header('cache-control', 'no-store');
    });

    scope.get<{ Querystring: { after: string; limit: number } }>(
      '/dead-letters',
      {
        config: { access: 'read' },
        schema: {
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: { after: { type: 'string', pattern: '^(0|[1-9][0-9]{0,17})$', default: '0' }, limit: { type: 'integer', minimum: 1, maximum: 200, default: 50 } },
          },
        },
      },
      async (request) => {
        const tenant = tenantOf(request.auth);
        const [total, letters] = await Promise.all([
          countTenantDeadLetters(deps.pool, tenant),
          listTenantDeadLetters(deps.pool, tenant, request.query.after, request.query.limit),
        ]);
        return { total, deadLetters: letters, next: letters.length === request.query.limit ? (letters.at(-1)?.id ?? null) : null };
      },
    );

    scope.post('/dead-letters/retry', async (request) => {
      const ids = parseDeadLetterIds(request.body);
      const own = await selectTenantDeadLetterIds(deps.pool, tenantOf(request.auth), ids);
      // Never hand retryDeadLetters an empty or null list: null would mean every tenant's dead letters.
      if (own.length === 0) return { retried: 0, projected: 0, refused: 0, pending: 0, notFound: ids.length };
      if (retriesInFlight >= MAX_RETRIES_IN_FLIGHT) throw tooManyRequests('other dead-letter retries are running; try again in a few seconds', Math.ceil(waitMs / 1000));
      retriesInFlight++;
      try {
        const queue = deps.ingestQueue as Queue<IngestJobData>;
        const summary: RetrySummary = await retryDeadLetters(deps.pool, queue, own, { attempts: deps.config.projectorBatchAttempts, waitMs });
        return { ...summary, notFound: ids.length - own.length };
      } finally {
        retriesInFlight--;
      }
    });

    scope.post('/dead-letters/drop', async (request) => {
      const ids = parseDeadLetterIds(request.body);
      const dropped = await deleteTenantDeadLetters(deps.pool, tenantOf(request.auth), ids);
      return { dropped, notFound: ids.length - dropped };
    });
  });
}

/** The key's tenant; a key bound to one device may not act tenant-wide (decision 0043). */
function tenantOf(identity: KeyIdentity): string {
  if (isDeviceBound(identity)) throw forbidden('a key bound to a device may not handle its tenant’s dead letters');
  return identity.tenantId;
}
