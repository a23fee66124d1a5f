import type { ReadOptions } from '../model/read-options.ts';
import { selectPendingBatches, selectPendingTokenBatch } from '../queries/select-pending-batches.ts';
import type { ReadRouter } from './read-router.ts';

/**
 * What one read must see projected before it reads the primary (decision 0104): the tenant's staged
 * batches, or one device's when the read is about one device. A read that runs several statements
 * (a probe, then the whole read) shares one barrier, so it waits once: what was acknowledged after
 * the read began is not its to wait for.
 */
export class ProjectionBarrier {
  passed = false;
  readonly tenantId: string;
  readonly device: string | undefined;

  constructor(tenantId: string, device?: string) {
    this.tenantId = tenantId;
    this.device = device;
  }
}

/**
 * Returns once the primary has applied what the read must reflect: for `strong`, every batch staged
 * for its scope when it asked (each was acknowledged before, or while, the read began); for a token,
 * the token's batch when it is the tenant's and still staged. Reads that merge staged rows
 * themselves (latest state, state at an instant) never pass here.
 */
export async function passProjectionBarrier(router: Pick<ReadRouter, 'primary' | 'projection'>, barrier: ProjectionBarrier, options: ReadOptions): Promise<void> {
  if (barrier.passed) return;
  const batches =
    options.consistency === 'strong'
      ? // One more than the waiter takes: a backlog past its bound is refused, not read whole.
        await selectPendingBatches(router.primary, barrier.tenantId, barrier.device, router.projection.maxPendingBatches + 1)
      : options.afterBatchId !== undefined
        ? await selectPendingTokenBatch(router.primary, barrier.tenantId, options.afterBatchId)
        : [];
  await router.projection.wait(barrier.tenantId, batches);
  barrier.passed = true;
}
