import { lockTenantLabelVersions, waitForLabelWrites, withTransaction, type Pool, type PoolClient } from '@strata/core';
import { advanceGroupHeads } from '../queries/advance-group-heads.ts';
import { claimDirtyMinutes } from '../queries/claim-dirty-minutes.ts';
import { claimGroupNotes } from '../queries/claim-group-notes.ts';
import { countMinuteGroups } from '../queries/count-minute-groups.ts';
import { foldClaimedLabelSamples } from '../queries/fold-claimed-label-samples.ts';
import type { GroupKey } from '../queries/group-minute-sql.ts';
import { AGGREGATES_LOCK_CLASS, lockTenantAggregates } from '../queries/lock-tenant-aggregates.ts';
import { replaceCoarserGroupRollups } from '../queries/replace-coarser-group-rollups.ts';
import { replaceCoarserRollups } from '../queries/replace-coarser-rollups.ts';
import { replaceGroupMinutes } from '../queries/replace-group-minutes.ts';
import { replaceHourCounts } from '../queries/replace-hour-counts.ts';
import { replaceMinuteAggregates } from '../queries/replace-minute-aggregates.ts';
import { replaceNotedGroupMinutes, type GroupMinute } from '../queries/replace-noted-group-minutes.ts';
import { selectCurrentLabels, type CurrentLabels } from '../queries/select-current-labels.ts';
import { selectDirtyTenants } from '../queries/select-dirty-tenants.ts';
import { withHashedAggregation } from '../queries/with-hashed-aggregation.ts';
import { ClaimSizes } from './claim-sizes.ts';
import { TenantBackoff } from './tenant-backoff.ts';

export interface RefreshAggregatesOptions {
  /** Epoch ms. Minutes that ended after this instant are left noted: reads compute them live (decision 0060). */
  now: number;
  /**
   * An ended minute noted within this many milliseconds waits for its notes to stop (at most until it
   * ended a minute ago), so a backlog's drains reaching it do not make every round recompute it
   * (decision 0093). 0 (the default): claimed as soon as it ended.
   */
  settleMs?: number;
  /** How far behind `now` the heads of open group minutes stay at least (decision 0085); the default unless said. */
  headLagMs?: number;
  /**
   * The clock the heads of a tenant's open minutes advance by, read at their turn (the refresh loop
   * passes its clock): a round's claims before them can take seconds, and heads advanced to the
   * round's start would be that much older when they commit, past an eventual read's bound (decision
   * 0088). `now` when not given (tests fix the refresher's clock).
   */
  headsClock?: () => number;
  /** Reporter rows an open minute keeps at most (decision 0088); the default unless a test says. */
  maxReportersPerMinute?: number;
  /** Tenants per round. */
  maxTenants?: number;
  /** Minutes per tenant per transaction, fixed; without it `claimSizes` decides. */
  maxMinutes?: number;
  /** Per-tenant claim sizes learned across rounds (the refresh loop keeps one); a fresh one otherwise. */
  claimSizes?: ClaimSizes;
  /** Checked before each tenant's transaction: the round ends early when it returns true (shutdown). */
  stopping?: () => boolean;
  /**
   * Called after a tenant's transaction committed with the current labels of the devices its fold
   * changed (the refresh loop writes them through to the cache). Its failure is the caller's to
   * report: the refresh is committed whatever happens to the cache.
   */
  labelsChanged?: (tenantId: string, labels: CurrentLabels[]) => Promise<void>;
  /**
   * Tenants whose transaction failed are skipped for a while (the refresh loop keeps one); without it a
   * failure is still isolated to its tenant, and it is retried next round.
   */
  backoff?: TenantBackoff;
  /** Told of each tenant transaction that failed (rolled back: its minutes stay noted); the round goes on. */
  tenantFailed?: (tenantId: string, error: unknown, retryInMs: number) => void;
  /** Told when advancing a tenant's group heads failed (their own transaction, rolled back; a claim is not affected). */
  headsFailed?: (tenantId: string, error: unknown) => void;
}

export interface RefreshOutcome {
  /** Minutes recomputed and committed: tenant minutes plus group-noted minutes. */
  minutes: number;
  /** Tenants left for another process that was refreshing them. */
  skippedTenants: number;
  /** Tenants whose claim was full: more of their minutes are probably due, so another round can follow at once. */
  backloggedTenants: number;
  /** Label samples of claimed minutes folded into label_versions (events' `labels`). */
  labelSamples: number;
  /** Tenants whose transaction failed this round (rolled back, retried after a back-off). */
  failedTenants: number;
  /** Open minutes whose group heads moved, were given up (a late note), or stood still (decision 0085). */
  heads: { advanced: number; givenUp: number; held: number };
}

/** What one tenant transaction did. */
interface TenantRefresh {
  minutes: number;
  labelSamples: number;
  labels: CurrentLabels[];
}

/**
 * One round of the aggregate refresher: for each tenant with noted minutes that have ended (tenant
 * notes, or group notes left by label changes), one transaction that claims (deletes) their notes,
 * recomputes those minutes from history, the hours and days holding them from the level below, and the
 * tenant's counts per minute and hour, each written over what was there; group levels beside device
 * levels (decision 0074). A crash or error anywhere rolls the whole transaction back, notes included,
 * so the minutes are recomputed next round; a second run of a committed refresh changes nothing. Only
 * closed minutes are refreshed: a device reporting every second would otherwise have its current
 * minute recomputed sixty times, and reads answer noted minutes from history anyway.
 * Every due tenant (up to `maxTenants`, oldest note first) gets one transaction per round, each
 * sized to a bounded time, so one tenant's backlog delays another's fresh minutes by about one
 * transaction, not by the backlog (decision 0064).
 */
export async function refreshAggregates(pool: Pool, options: RefreshAggregatesOptions): Promise<RefreshOutcome> {
  const closedBy = new Date(options.now).toISOString();
  const sizes = options.claimSizes ?? new ClaimSizes();
  const limit = options.maxTenants ?? 32;
  const noted = await selectDirtyTenants(pool, { closedBy, limit });
  // Tenants whose only due work is group notes (a retroactive label change); none without labels.
  const grouped = await selectDirtyTenants(pool, { closedBy, limit, table: 'group_dirty' });
  // Tenants receiving events now: their open minutes' group heads move forward (decision 0085), in a
  // quota of their own (the least recently advanced first), so neither due work nor other tenants'
  // heads keep a tenant's heads still round after round.
  const open = await selectDirtyTenants(pool, { closedBy, limit, table: 'open' });
  const tenants = [...new Set([...[...new Set([...noted, ...grouped])].slice(0, limit), ...open])];
  const backoff = options.backoff ?? new TenantBackoff();
  const outcome: RefreshOutcome = { minutes: 0, skippedTenants: 0, backloggedTenants: 0, labelSamples: 0, failedTenants: 0, heads: { advanced: 0, givenUp: 0, held: 0 } };
  const openTenants = new Set(open);
  const dueTenants = new Set([...noted, ...grouped]);
  for (const tenantId of tenants) {
    if (options.stopping?.()) break;
    if (backoff.waiting(tenantId, Date.now())) continue;
    if (openTenants.has(tenantId) && dueTenants.has(tenantId)) {
      // A tenant with minutes to claim and minutes open: its heads move first, so that reads find them
      // fresh while the claim runs (seconds for a busy minute), not as old as the last round's end plus
      // the claim (decision 0088's bound is 3 s). They move again after the claim.
      const heads = await advanceTenantHeadsAlone(pool, tenantId, options);
      if (heads !== undefined) addHeads(outcome.heads, heads);
    }
    const size = options.maxMinutes ?? sizes.minutesFor(tenantId);
    const started = performance.now();
    let refreshed: TenantRefresh | undefined;
    try {
      // The claim's group levels read label versions without their lock (decision 0115): first the
      // label writes in progress commit, and the claim takes only minutes that ended by then. A label
      // write its statements cannot see took the lock later, so its change starts after every minute
      // it claims (else an event drained after such a write's look-up of history could be grouped under
      // the old label with no note left to correct it). Skipped while another refresher has the tenant.
      refreshed = await inSettledTenant(pool, tenantId, (client, settled) =>
        refreshTenant(client, tenantId, { ...options, now: Math.min(options.now, settled) }, size),
      );
    } catch (error) {
      // One tenant's failure (a minute too costly for the statement timeout, say) must not end the
      // round for the others; a smaller claim next time, after a wait (hostile review, issue 13).
      outcome.failedTenants++;
      sizes.record(tenantId, { claimed: size, size, elapsedMs: Number.MAX_SAFE_INTEGER });
      options.tenantFailed?.(tenantId, error, backoff.failed(tenantId, Date.now()));
      continue;
    }
    backoff.succeeded(tenantId);
    if (refreshed === undefined) {
      outcome.skippedTenants++;
      continue;
    }
    sizes.record(tenantId, { claimed: refreshed.minutes, size, elapsedMs: performance.now() - started });
    outcome.minutes += refreshed.minutes;
    outcome.labelSamples += refreshed.labelSamples;
    if (refreshed.labels.length > 0) await options.labelsChanged?.(tenantId, refreshed.labels);
    if (refreshed.minutes >= size) outcome.backloggedTenants++;
    // Last, after the claim took the ended minutes (and their heads): the open minutes' heads, in a
    // transaction of their own, so that their failure (a statement timeout, say) never undoes the
    // claim: heads are only a shortcut for reads, which are exact without them.
    const heads = await advanceTenantHeadsAlone(pool, tenantId, options);
    if (heads !== undefined) addHeads(outcome.heads, heads);
  }
  return outcome;
}

/**
 * One tenant's claim (decisions 0074, 0113, 0115): tenant minutes claimed → device minutes → device
 * hours and days → tenant hour counts → every group's rows of the claimed minutes → group-noted minutes
 * of other ended minutes, in what is left of the claim's size → group hours and days (their `devices`
 * read the device levels written before) → the claimed minutes' label samples read from history →
 * the tenant's label versions lock, waiting for a label write in progress → those samples folded, which
 * notes the group minutes a change moved.
 * A label write (PUT/PATCH) waits only for the fold itself: the group levels read the versions without
 * the lock, each statement on its own snapshot, and any label change they did not see has noted the
 * group minutes it moved, which reads then answer live and a later round recomputes (decision 0115).
 * The fold comes last so that its notes of this claim's own minutes (a first label, a changed tag)
 * outlive the group minutes' deletion of their notes: those minutes are recomputed by the next round.
 */
async function refreshTenant(client: PoolClient, tenantId: string, options: RefreshAggregatesOptions, size: number): Promise<TenantRefresh> {
  const closedBy = new Date(options.now).toISOString();
  const { minutes, labelled } = await claimDirtyMinutes(client, { tenantId, closedBy, limit: size, settleMs: options.settleMs ?? 0 });
  let hours: Awaited<ReturnType<typeof replaceMinuteAggregates>> = [];
  let groupHours: GroupKey[] = [];
  if (minutes.length > 0) {
    hours = await replaceMinuteAggregates(client, { tenantId, minutes });
    const days = await replaceCoarserRollups(client, { tenantId, level: 'hour', touched: hours });
    await replaceCoarserRollups(client, { tenantId, level: 'day', touched: days });
    await replaceHourCounts(client, tenantId, minutes);
    // Every sample of the claimed minutes grouped: hashed, not sorted (decision 0108).
    groupHours = await withHashedAggregation(client, () => replaceGroupMinutes(client, { tenantId, minutes }));
  }
  // Group notes share the claim's size: a tenant's fresh minutes come first, its retroactive moves
  // follow in what is left (at least one minute, so they never starve behind a steady stream).
  const groupNoted = await claimGroupNotes(client, { tenantId, closedBy, limit: Math.max(1, size - minutes.length) });
  if (groupNoted.length > 0) {
    const { whole, noted } = await splitNotedMinutes(client, tenantId, groupNoted);
    if (whole.length > 0) groupHours = groupHours.concat(await withHashedAggregation(client, () => replaceGroupMinutes(client, { tenantId, minutes: whole })));
    if (noted.length > 0) groupHours = groupHours.concat(await replaceNotedGroupMinutes(client, { tenantId, minutes: noted }));
  }
  const groupDays = await replaceCoarserGroupRollups(client, { tenantId, level: 'hour', touched: groupHours });
  await replaceCoarserGroupRollups(client, { tenantId, level: 'day', touched: groupDays });
  const fold =
    labelled.length > 0
      ? await foldClaimedLabelSamples(client, { tenantId, minutes: labelled }, () => lockTenantLabelVersions(client, tenantId))
      : { samples: 0, devices: [] };
  const labels = fold.devices.length > 0 ? await selectCurrentLabels(client, tenantId, fold.devices) : [];
  return {
    minutes: minutes.length + new Set(groupNoted.map((m) => m.bucket)).size,
    labelSamples: fold.samples,
    labels,
  };
}

/**
 * Which claimed group-noted minutes are recomputed whole (every group, replace-group-minutes.ts) and
 * which by their noted groups only (replace-noted-group-minutes.ts): whole where the notes name at least
 * half the groups the minute holds. That is the fold's notes of a claim's own minutes when a fleet's
 * labels are seen for the first time (the claim grouped the minute before the fold, so it holds few or
 * no groups yet, decision 0115), or a tag changed on most devices: the noted form reads each member's
 * history once per group (10,016 groups of the bench's line-protocol minute: 24 s, against 5–7 s
 * hashed whole). A PUT moving one device of a busy minute still recomputes only its two groups. A
 * minute raw retention dropped is never recomputed whole: from no history, every group of it would go.
 */
async function splitNotedMinutes(client: PoolClient, tenantId: string, groupNoted: GroupMinute[]): Promise<{ whole: string[]; noted: GroupMinute[] }> {
  const notedGroups = new Map<string, number>();
  for (const minute of groupNoted) notedGroups.set(minute.bucket, (notedGroups.get(minute.bucket) ?? 0) + 1);
  const held = await countMinuteGroups(client, tenantId, [...notedGroups.keys()]);
  const whole = [...notedGroups]
    .filter(([bucket, groups]) => {
      const minute = held.get(bucket);
      return minute !== undefined && minute.history && groups * 2 >= minute.groups;
    })
    .map(([bucket]) => bucket);
  const wholeSet = new Set(whole);
  return { whole, noted: groupNoted.filter((minute) => !wholeSet.has(minute.bucket)) };
}

/**
 * One refresher transaction of a tenant that reads label versions without their lock (decision 0115):
 * first the barrier (waitForLabelWrites: the label writes in progress commit; `settled` is the database's
 * instant then, which every later label write's change starts at or after), then the transaction under
 * the refresher's tenant lock. Undefined, doing nothing, while another refresher has the tenant.
 */
async function inSettledTenant<T>(pool: Pool, tenantId: string, work: (client: PoolClient, settled: number) => Promise<T>): Promise<T | undefined> {
  const settled = await waitForLabelWrites(pool, tenantId, AGGREGATES_LOCK_CLASS);
  if (settled === undefined) return undefined;
  return withTransaction(pool, async (client) => ((await lockTenantAggregates(client, tenantId)) ? work(client, settled) : undefined));
}

type HeadsMoved = RefreshOutcome['heads'];

/**
 * The heads of a tenant's open minutes moved to the clock at their turn, in a transaction of their own
 * under the refresher's tenant lock (skipped, undefined, when another refresher holds it; undefined
 * too when it failed, after telling `headsFailed`). Heads read the members' label versions but do not
 * hold the label versions lock while they move (decision 0115): they first wait for the label writes in
 * progress (waitForLabelWrites), outside the transaction, and move at most to the database's instant
 * then. A label write that commits after their snapshot took the lock after that instant, so its
 * change starts after everything the heads add; one that committed before is in their snapshot.
 */
async function advanceTenantHeadsAlone(pool: Pool, tenantId: string, options: RefreshAggregatesOptions): Promise<HeadsMoved | undefined> {
  try {
    return await inSettledTenant(pool, tenantId, async (client, settled) => {
      const now = Math.max(options.now, options.headsClock?.() ?? options.now);
      const moved = await advanceGroupHeads(client, {
        tenantId,
        now,
        throughAtMost: settled,
        ...(options.headLagMs === undefined ? {} : { lagMs: options.headLagMs }),
        ...(options.maxReportersPerMinute === undefined ? {} : { maxReportersPerMinute: options.maxReportersPerMinute }),
      });
      return { advanced: moved.advanced, givenUp: moved.givenUp, held: moved.held };
    });
  } catch (error) {
    options.headsFailed?.(tenantId, error);
    return undefined;
  }
}

function addHeads(into: HeadsMoved, moved: HeadsMoved): void {
  into.advanced += moved.advanced;
  into.givenUp += moved.givenUp;
  into.held += moved.held;
}
