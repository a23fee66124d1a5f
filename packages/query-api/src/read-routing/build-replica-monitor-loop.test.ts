import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { createLogger } from '@strata/core';
import { buildReplicaMonitorLoop } from './build-replica-monitor-loop.ts';
import type { ReplicaNode } from './replica-node.ts';

const logger = createLogger('test', 'silent');

function fakeReplicas(nodes: number, roundMs = 0) {
  const replicas = {
    nodes: Array.from({ length: nodes }, () => ({}) as ReplicaNode),
    rounds: 0,
    running: 0,
    maxRunning: 0,
    async probeAll() {
      replicas.running += 1;
      replicas.maxRunning = Math.max(replicas.maxRunning, replicas.running);
      await sleep(roundMs);
      replicas.rounds += 1;
      replicas.running -= 1;
    },
  };
  return replicas;
}

t.test('start() resolves after a first round; rounds repeat, never overlap, and stop with stop()', async (t) => {
  const replicas = fakeReplicas(2, 30);
  const loop = buildReplicaMonitorLoop(replicas, { logger, intervalMs: 10 });
  await loop.start();
  t.equal(replicas.rounds, 1, 'the first round is done when start() resolves');
  await sleep(150);
  t.ok(replicas.rounds > 2, `rounds repeat (${replicas.rounds})`);
  t.equal(replicas.maxRunning, 1, 'a round still running when the next is due is not overlapped');
  await loop.stop();
  t.equal(replicas.running, 0, 'stop() waits for the round in flight');
  const after = replicas.rounds;
  await sleep(50);
  t.equal(replicas.rounds, after, 'no round after stop()');
});

t.test('without replicas nothing runs, not even the primary\'s position query', async (t) => {
  const replicas = fakeReplicas(0);
  const loop = buildReplicaMonitorLoop(replicas, { logger, intervalMs: 10 });
  await loop.start();
  await sleep(40);
  await loop.stop();
  t.equal(replicas.rounds, 0);
});
