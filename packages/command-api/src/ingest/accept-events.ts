import { AppError, isDeviceBound, requireDevice, type Clock, type Config, type FieldError, type KeyIdentity } from '@strata/core';
import type { CommandMetrics } from '../metrics.ts';
import type { DeviceKeyRegistry } from './device-key-registry.ts';
import type { GroupCommitter } from './group-committer.ts';
import type { HeldBytes } from './held-bytes.ts';
import type { IngestRateLimiter, OwedBytes } from './ingest-rate-limiter.ts';
import { isLargeRequest, type LargeBodyLane } from './large-body-lane.ts';
import { validateEvents } from './validate-events.ts';

/** Most clients fix a batch by reading the first problems; the total tells them how many remain. */
const MAX_REPORTED_ERRORS = 1000;

export interface AcceptEventsDeps {
  clock: Clock;
  metrics: CommandMetrics;
  rateLimiter: IngestRateLimiter;
  keyRegistry: DeviceKeyRegistry;
  committer: GroupCommitter;
  heldBytes: HeldBytes;
  largeBodies: LargeBodyLane;
  config: Pick<Config, 'retentionDays' | 'maxFutureSkewMs'>;
}

/**
 * The one way events enter Strata, whatever carried them (HTTP JSON, line protocol, MQTT): the
 * tenant's rates, validation of every event (all or nothing), the key's device binding, the device's
 * key budget, then the group commit. Resolves with the batch id once the events are in staging and
 * the queue (what a 202 or a PUBACK promises); throws an AppError saying why otherwise, having
 * stored nothing. `raw` are event objects as read from the body; `bytes` is the memory the request
 * holds, as the transport estimates it from its body (held-bytes.ts), charged until the request is
 * answered; `parseErrors` are problems the transport found while reading them (by index). `owed` holds
 * the body's bytes not yet taken from the tenant's byte rate (a small body's, decision 0126; a large
 * body's were taken before it was parsed): taken here with the events, in one script call, and
 * cleared, so the transport charges only what a request refused before this still owes.
 */
export async function acceptEvents(deps: AcceptEventsDeps, auth: KeyIdentity, raw: unknown[], bytes: number, parseErrors: FieldError[] = [], owed?: OwedBytes): Promise<{ accepted: number; batchId: string }> {
  const owedBytes = owed?.owedBytes ?? 0;
  if (owed) owed.owedBytes = 0;
  // First of all: every later step may wait on Redis or PostgreSQL, and a request must not wait
  // uncounted (hostile review of decision 0120: 2 GB held before the committer, with none charged).
  let release: () => void;
  try {
    release = deps.heldBytes.take(auth.tenantId, bytes);
  } catch (error) {
    deps.rateLimiter.chargeRefused(auth.tenantId, owedBytes);
    deps.metrics.eventsRejected.inc({ reason: rejectionReason(error) }, raw.length);
    throw error;
  }
  try {
    // The event rate counts every event a request carries, valid or not, and is charged before
    // validation: otherwise a flood of invalid events would cost validation without ever being
    // limited. And before a large body's turn: a tenant over its rate takes no turn from its
    // neighbours (decision 0124). A request refused by either rate takes no events; its bytes are
    // charged (it was read and parsed).
    if (deps.rateLimiter.enabled) await takeRate(deps, auth, raw.length, owedBytes);
    // Then a large request waits for its turn, charged: about 1 MiB of them processed at a time,
    // tenants in turn, so their event loop never piles up before other requests (decision 0123).
    const turn = isLargeRequest(bytes) ? await takeTurn(deps, auth, bytes, raw.length) : undefined;
    try {
      return await acceptHeld(deps, auth, raw, bytes, parseErrors);
    } finally {
      turn?.();
    }
  } finally {
    release();
  }
}

async function acceptHeld(deps: AcceptEventsDeps, auth: KeyIdentity, raw: unknown[], bytes: number, parseErrors: FieldError[]): Promise<{ accepted: number; batchId: string }> {
  const { events, errors, complete } = validateEvents(raw, parseErrors, {
    nowMs: deps.clock.now(),
    days: deps.config.retentionDays,
    maxFutureSkewMs: deps.config.maxFutureSkewMs,
  }, MAX_REPORTED_ERRORS);
  if (errors.length > 0) {
    const invalid = new Set(errors.map((error) => error.index)).size;
    deps.metrics.eventsRejected.inc({ reason: 'invalid' }, raw.length);
    const counted = complete ? `${invalid}` : `at least ${invalid}`;
    throw new AppError(400, 'invalid_events', `${counted} of ${raw.length} events are invalid; nothing was stored`, {
      details: errors,
    });
  }
  try {
    // A key bound to one device writes only as that device (SPEC: Scopes).
    if (isDeviceBound(auth)) for (const event of events) requireDevice(auth, event.device);
    // The key registry is asked only once the request is valid and within its rate, so a refused
    // request registers no keys. Nothing to wait for when every name is known (the steady state).
    const claimed = deps.keyRegistry.claim(auth.tenantId, events);
    if (claimed) await claimed;
  } catch (error) {
    deps.metrics.eventsRejected.inc({ reason: rejectionReason(error) }, events.length);
    throw error;
  }
  let batchId: string;
  try {
    batchId = await deps.committer.submit(auth.tenantId, events, bytes);
  } catch (error) {
    deps.metrics.eventsRejected.inc({ reason: rejectionReason(error) }, events.length);
    throw error;
  }
  deps.metrics.eventsAccepted.inc(events.length);
  return { accepted: events.length, batchId };
}

async function takeRate(deps: AcceptEventsDeps, auth: KeyIdentity, events: number, bytes: number): Promise<void> {
  try {
    await deps.rateLimiter.take(auth.tenantId, events, bytes);
  } catch (error) {
    // Its body was read and parsed: refused, it is charged its bytes all the same, so a flood of small
    // bodies over the rate lengthens its own hold (hostile review of decision 0126).
    if (error instanceof AppError && error.status === 429) deps.rateLimiter.chargeRefused(auth.tenantId, bytes);
    deps.metrics.eventsRejected.inc({ reason: rejectionReason(error) }, events);
    throw error;
  }
}

async function takeTurn(deps: AcceptEventsDeps, auth: KeyIdentity, bytes: number, events: number): Promise<() => void> {
  try {
    return await deps.largeBodies.enter(auth.tenantId, bytes);
  } catch (error) {
    deps.metrics.eventsRejected.inc({ reason: rejectionReason(error) }, events);
    throw error;
  }
}

function rejectionReason(error: unknown): string {
  if (!(error instanceof AppError)) return 'unavailable';
  if (error.status === 400) return 'too_many_keys';
  if (error.status === 403) return 'forbidden';
  if (error.status === 429) return 'rate_limited';
  if (error.status === 401) return 'unauthorized';
  return 'unavailable';
}
