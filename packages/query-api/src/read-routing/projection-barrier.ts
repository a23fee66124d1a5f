import type { ReadOptions } from '../model/read-options.ts';
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
export async function passProjectionBarrier(router: Pick<ReadRouter, 'projection'>, barrier: ProjectionBarrier, options: ReadOptions): Promise<void> {
  if (barrier.passed) return;
  if (options.consistency === 'strong') {
    await router.projection.settle(barrier.tenantId, barrier.device === undefined ? { kind: 'tenant' } : { kind: 'device', device: barrier.device });
  } else if (options.afterBatchId !== undefined) {
    await router.projection.settle(barrier.tenantId, { kind: 'token', batchId: options.afterBatchId });
  }
  barrier.passed = true;
}
