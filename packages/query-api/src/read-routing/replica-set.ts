import { createPool, withTimeout, type Clock, type Logger, type Pool, type ReplicaTarget, type ReplicaView } from '@strata/core';
import { selectWalInsertPosition } from '../queries/select-wal-insert-position.ts';
import type { ReplicaStatus } from './choose-sources.ts';
import { Breaker, type BreakerOptions } from './breaker.ts';
import { probeReplica } from './probe-replica.ts';
import { GENERIC_PLAN_APPLICATION, GENERIC_PLAN_SETTINGS } from './generic-plans.ts';
import type { ReplicaNode } from './replica-node.ts';

export interface ReplicaSetOptions {
  targets: ReplicaTarget[];
  primary: Pool;
  clock: Clock;
  logger: Logger;
  breaker: BreakerOptions;
  /** A probe's one deadline, and the bound on reading the primary's WAL position for a round. */
  probeTimeoutMs: number;
  /** Server-side limit for reads on a replica; a little above the breaker's timeout. */
  statementTimeoutMs: number;
}

/**
 * The configured read replicas: a pool, a breaker and the last probe of each. The replica monitor
 * loop (buildReplicaMonitorLoop) runs the probe rounds. Until a replica's first probe succeeds it is
 * not used, so a fresh process never routes to a replica it knows nothing of.
 */
export class ReplicaSet {
  readonly nodes: ReplicaNode[];
  readonly #options: ReplicaSetOptions;

  constructor(options: ReplicaSetOptions) {
    this.#options = options;
    const replicaPool = (url: string, generic: boolean) =>
      createPool(
        {
          connectionString: url,
          max: 4,
          applicationName: generic ? GENERIC_PLAN_APPLICATION : 'strata-query-api',
          statementTimeoutMs: options.statementTimeoutMs,
          // A replica that does not accept a connection quickly is skipped, not waited for.
          connectionTimeoutMs: options.probeTimeoutMs,
          ...(generic ? { settings: GENERIC_PLAN_SETTINGS } : {}),
        },
        options.logger,
      );
    this.nodes = options.targets.map((target) => ({
      name: target.name,
      pool: replicaPool(target.url, false),
      genericPool: replicaPool(target.url, true),
      breaker: new Breaker(`replica:${target.name}`, options.breaker, options.clock, options.logger),
      probe: undefined,
    }));
  }

  /** One probe round over every replica; never rejects (a failed probe is recorded as one). */
  async probeAll(): Promise<void> {
    const { clock, primary, probeTimeoutMs } = this.#options;
    const startedAt = clock.now();
    // Without the primary's position, lag falls back to the heartbeat and replay ages: still bounds.
    const primaryLsn = await withTimeout(selectWalInsertPosition(primary), probeTimeoutMs).catch(() => null);
    const round = { startedAt, primaryLsn, now: () => clock.now() };
    await Promise.all(
      this.nodes.map(async (node) => {
        node.probe = await probeReplica(node, round, probeTimeoutMs);
      }),
    );
  }

  /** The router's view at `now`: lag grows with the time since the probe, so it stays an upper bound. */
  statuses(now: number): ReplicaStatus[] {
    return this.nodes.map((node) => ({
      name: node.name,
      lagMs: node.probe ? node.probe.lagMs + Math.max(0, now - node.probe.at) : Infinity,
      healthy: node.probe?.ok === true,
      breaker: node.breaker.state(),
    }));
  }

  node(name: string): ReplicaNode | undefined {
    return this.nodes.find((node) => node.name === name);
  }

  /** What /replicas and the metrics show for each replica. */
  views(now: number): ReplicaView[] {
    return this.nodes.map((node) => {
      const probe = node.probe;
      const lagMs = probe && Number.isFinite(probe.lagMs) ? Math.round(probe.lagMs + Math.max(0, now - probe.at)) : null;
      return {
        name: node.name,
        healthy: probe?.ok === true && node.breaker.state() === 'closed',
        lagMs,
        breaker: node.breaker.state(),
        replayLsn: probe?.replayLsn ?? null,
        inRecovery: probe?.inRecovery ?? false,
        probedAt: probe ? new Date(probe.at).toISOString() : null,
        ...(probe?.error ? { error: probe.error } : {}),
      };
    });
  }

  /** Closes every replica pool; the monitor loop must have stopped first. */
  async close(): Promise<void> {
    await Promise.all(this.nodes.flatMap((node) => [node.pool.end(), node.genericPool.end()]));
  }
}
