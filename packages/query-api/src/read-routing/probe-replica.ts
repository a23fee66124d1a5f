import { selectReplicaProgress } from '../queries/select-replica-progress.ts';
import type { ProbeResult, ReplicaNode } from './replica-node.ts';

/**
 * Probes one replica through its breaker (so a dead replica opens it even when no read goes there,
 * and the probe is the half-open trial that brings it back), under the probe's deadline, which
 * replaces the breaker's read deadline for this call rather than nesting inside it. The lag is the tightest upper bound
 * we have on staleness: about zero when the replica has replayed past the primary's WAL position of
 * the round's start, else the smaller of the heartbeat's age and the last replayed commit's age.
 */
export async function probeReplica(
  node: ReplicaNode,
  round: { startedAt: number; primaryLsn: string | null; now: () => number },
  timeoutMs: number,
): Promise<ProbeResult> {
  try {
    const progress = await node.breaker.execute(() => selectReplicaProgress(node.pool, round.primaryLsn), timeoutMs);
    const ages = [progress.heartbeatAgeMs, progress.replayAgeMs].filter((age): age is number => age !== undefined);
    // Caught up with the position read at startedAt: stale by at most the time since then.
    const lagMs = progress.caughtUp ? round.now() - round.startedAt : ages.length > 0 ? Math.max(0, Math.min(...ages)) : Infinity;
    return { at: round.startedAt, ok: true, lagMs, replayLsn: progress.replayLsn, inRecovery: progress.inRecovery };
  } catch (error) {
    const message = error instanceof Error ? error.message || error.name : String(error);
    return { at: round.startedAt, ok: false, lagMs: Infinity, replayLsn: node.probe?.replayLsn ?? null, inRecovery: false, error: message };
  }
}
