import { AppError, EVENT_LIMITS, lockTenantLabelVersions, unavailable, withTransaction, type Config, type LabelPatch, type Logger, type Pool, type Redis } from '@strata/core';
import type { DeviceKeyRegistry } from '../ingest/device-key-registry.ts';
import type { IngestRateLimiter } from '../ingest/ingest-rate-limiter.ts';
import type { TenantWriteGate } from './tenant-write-gate.ts';
import type { CommandMetrics } from '../metrics.ts';
import { foldApiLabels } from '../queries/fold-api-labels.ts';
import { selectCurrentDeviceLabels } from '../queries/select-current-device-labels.ts';
import { selectDeviceLabelsAt } from '../queries/select-device-labels-at.ts';
import { writeThroughLabels } from './write-through-labels.ts';

/**
 * How long a PUT/PATCH waits for the tenant's label versions lock. The refresher holds it only for the
 * fold of one claim's label samples (decision 0115; until then also its group minutes and heads, 1–14 s
 * a round beside labelled ingest), another label write for one fold. Past this the client is better
 * told to retry than held with a pool connection.
 */
export const LABEL_LOCK_TIMEOUT_MS = 2000;

/** PostgreSQL's lock_not_available: lock_timeout passed. */
const LOCK_NOT_AVAILABLE = '55P03';

export interface WriteDeviceLabelsDeps {
  pool: Pool;
  logger: Logger;
  metrics: Pick<CommandMetrics, 'labelFolds'>;
  keyRegistry: Pick<DeviceKeyRegistry, 'forgetLabels'>;
  /** The tenant's ingest rate: a label write costs one event per label it names (at least one). */
  rateLimiter: Pick<IngestRateLimiter, 'take'>;
  /**
   * The cache Redis (CACHE_REDIS_URL) the projector writes latest states through: the device's labels
   * are written through to it after commit. Without it (command-api's deps have no cache connection
   * yet) the cache is left alone and query-api's `cache` reads show the labels once the refresher has
   * written them.
   */
  cache?: Redis;
  config: Pick<Config, 'redisPrefix'>;
  /** LABEL_LOCK_TIMEOUT_MS unless a test shortens it. */
  labelLockTimeoutMs?: number;
  /** One label write per tenant at a time in this process, so one tenant cannot hold the whole pool. */
  labelWrites: TenantWriteGate;
}

export interface DeviceLabelsWrite {
  tenantId: string;
  device: string;
  labels: LabelPatch;
  /** PUT: labels not named become absent; PATCH: they keep their value. */
  replace: boolean;
}

export interface WrittenDeviceLabels {
  device: string;
  labels: Record<string, string>;
  effectiveFrom: string;
}

interface Committed {
  written: WrittenDeviceLabels;
  /** The device's current labels (JSON text) and their version, for the cache. */
  current: { labelsJson: string; version: number };
}

/**
 * PUT/PATCH of a device's labels (SPEC "Groups"): folded at once into label_versions in one
 * transaction under the tenant's label versions lock, which the refresher's fold takes too (decision 0074: versions have one
 * writer per tenant at a time), effective from the database's now. Answers the labels in force from
 * then on. A PATCH that would leave the device more than EVENT_LIMITS.maxLabels labels changes
 * nothing (400, field `labels`).
 */
export async function writeDeviceLabels(deps: WriteDeviceLabelsDeps, write: DeviceLabelsWrite): Promise<WrittenDeviceLabels> {
  const { tenantId, device } = write;
  // Every API sample starts a version of its own (0074: an equal value too), so a tenant writing
  // labels in a loop would grow label_versions and hold its lock without bound: the writes count
  // against the same rate as its events (429 past it).
  await deps.rateLimiter.take(tenantId, Math.max(1, Object.keys(write.labels).length), 0);
  let committed: Committed;
  try {
    committed = await deps.labelWrites.run(tenantId, () => withTransaction(deps.pool, async (client): Promise<Committed> => {
      await lockTenantLabelVersions(client, tenantId, deps.labelLockTimeoutMs ?? LABEL_LOCK_TIMEOUT_MS);
      const { effectiveMs } = await foldApiLabels(client, tenantId, device, write.labels, write.replace);
      const labels = await selectDeviceLabelsAt(client, tenantId, device, effectiveMs);
      const count = Object.keys(labels).length;
      if (count > EVENT_LIMITS.maxLabels) {
        throw new AppError(400, 'invalid_request', 'body is invalid', {
          details: [{ field: 'labels', reason: `device "${device}" would hold ${count} labels; at most ${EVENT_LIMITS.maxLabels} are allowed (null removes one)` }],
        });
      }
      const current = await selectCurrentDeviceLabels(client, tenantId, device);
      return { written: { device, labels, effectiveFrom: new Date(effectiveMs).toISOString() }, current };
    }));
  } catch (error) {
    if (error instanceof AppError) throw error;
    if ((error as { code?: unknown }).code === LOCK_NOT_AVAILABLE) {
      throw unavailable("the tenant's labels are being written by the aggregate refresher or another label write; retry", error);
    }
    // The database away, a statement timeout: nothing was committed, and the client may retry (the
    // cause is logged with the 503, so a bug does not hide behind it).
    throw unavailable('cannot write labels right now; retry', error);
  }
  deps.metrics.labelFolds.inc({ source: write.replace ? 'put' : 'patch' });
  await afterCommit(deps, tenantId, device, committed.current);
  return committed.written;
}

/**
 * The write is committed: what follows may fail without taking it back. The cached labels are written
 * through (newest version wins); the label-name registry of the device is dropped so its next claim
 * starts from the labels it now holds (a removed label frees its place).
 */
async function afterCommit(deps: WriteDeviceLabelsDeps, tenantId: string, device: string, current: Committed['current']): Promise<void> {
  const cache = deps.cache;
  await Promise.all([
    cache &&
      writeThroughLabels(cache, deps.config.redisPrefix, { tenantId, device }, current.version, current.labelsJson).catch((error: unknown) =>
        deps.logger.warn({ err: error, device }, 'labels written; the cache could not be updated (cache reads show them after the next refresh)'),
      ),
    deps.keyRegistry.forgetLabels(tenantId, device).catch((error: unknown) =>
      deps.logger.warn({ err: error, device }, 'labels written; their registry entry could not be dropped (it expires on its own)'),
    ),
  ]);
}
