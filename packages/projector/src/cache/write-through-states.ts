import { LIVE_STREAM_MAXLEN, liveStreamKey, redisKeys, type Redis } from '@strata/core';
import type { ProjectedState } from '../queries/project-batch.ts';

/*
 * Newer-version-wins, atomically in Redis: two projectors may finish batches for one device in
 * either order, and the cache must end on the highest device_state.version. The live update is
 * published only when the cache really moved forward, so subscribers never see a step back.
 * The update is first appended to the tenant's capped live stream (KEYS[3]); the published message
 * carries the stream entry id, so a query-api can tell live messages from replayed ones and resume
 * an SSE client exactly where it left off. Both happen in this script, so the stream's order is the
 * publish order. The id is spliced into the JSON text rather than re-encoded with cjson, which would
 * round numbers to 14 digits.
 */
const SCRIPT = `
local current = redis.call('HGET', KEYS[1], 'v')
if current and tonumber(current) >= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'v', ARGV[1], 'b', ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[3])
local id = redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[5], '*', 'u', ARGV[4])
redis.call('PUBLISH', KEYS[2], '{"id":"' .. id .. '",' .. string.sub(ARGV[4], 2))
return 1`;

const COMMAND = 'strataWriteState';

type ScriptRunner = (
  stateKey: string,
  channel: string,
  stream: string,
  version: number,
  body: string,
  ttl: number,
  live: string,
  maxLen: number,
) => unknown;

/** Registers the script on a connection once (ioredis then calls it by SHA, loading it if needed). */
export function defineWriteStateCommand(redis: Redis): void {
  redis.defineCommand(COMMAND, { numberOfKeys: 3, lua: SCRIPT });
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
      liveStreamKey(prefix, state.tenantId),
      state.version,
      body,
      ttlSeconds,
      live,
      LIVE_STREAM_MAXLEN,
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
