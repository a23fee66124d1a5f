import { redisKeys, type Redis } from '@strata/core';
import type { ProjectedState } from '../queries/project-batch.ts';

/*
 * Newer-version-wins, atomically in Redis: two projectors may finish batches for one device in
 * either order, and the cache must end on the highest device_state.version. The live update is
 * published only when the cache really moved forward, so subscribers never see a step back.
 */
const SCRIPT = `
local current = redis.call('HGET', KEYS[1], 'v')
if current and tonumber(current) >= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'v', ARGV[1], 'b', ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('PUBLISH', KEYS[2], ARGV[4])
return 1`;

const COMMAND = 'strataWriteState';

type ScriptRunner = (stateKey: string, channel: string, version: number, body: string, ttl: number, live: string) => unknown;

/** Registers the script on a connection once (ioredis then calls it by SHA, loading it if needed). */
export function defineWriteStateCommand(redis: Redis): void {
  redis.defineCommand(COMMAND, { numberOfKeys: 2, lua: SCRIPT });
}

/** Writes the states of one projected batch in one pipelined round trip; returns how many moved forward. */
export async function writeThroughStates(
  redis: Redis,
  prefix: string,
  ttlSeconds: number,
  states: ProjectedState[],
): Promise<number> {
  if (states.length === 0) return 0;
  const pipeline = redis.pipeline();
  const run = (pipeline as unknown as Record<string, ScriptRunner>)[COMMAND] as ScriptRunner;
  for (const state of states) {
    const body = JSON.stringify({ device: state.device, ts: state.ts, values: state.values, updatedAt: state.updatedAt });
    const live = JSON.stringify({ device: state.device, ts: state.ts, values: state.values, updatedAt: state.updatedAt, version: state.version });
    run.call(
      pipeline,
      redisKeys.deviceState(prefix, state.tenantId, state.device),
      redisKeys.liveChannel(prefix, state.tenantId),
      state.version,
      body,
      ttlSeconds,
      live,
    );
  }
  const results = (await pipeline.exec()) ?? [];
  let written = 0;
  for (const [error, value] of results) {
    if (error) throw error;
    if (value === 1) written++;
  }
  return written;
}
