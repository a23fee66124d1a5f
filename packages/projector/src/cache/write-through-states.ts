import { LIVE_STREAM_MAXLEN, liveStreamKey, redisKeys, type Redis } from '@strata/core';
import type { ProjectedState } from '../queries/project-batch.ts';
import { liveDelta, liveMessageMaxBytes } from './live-delta.ts';

/**
 * What Redis spends per stream entry beyond the message text (id, listpack entry header, radix tree
 * share), on top of half the text for listpack nodes allocated in 4 KiB steps and the
 * allocator's size classes (measured with MEMORY USAGE, test/live-deltas.test.ts). Charged to the
 * byte count so the cap bounds the stream's memory, not only its payload.
 */
export const LIVE_ENTRY_OVERHEAD_BYTES = 64;

/*
 * Cache: newer-version-wins, atomically in Redis: two projectors may finish batches for one device
 * in either order, and the cache must end on the highest device_state.version (whole states, one
 * key per device, so its size is bounded by the device's own).
 * Live: the projection's delta (ARGV[4], empty when nothing changed) is appended to the tenant's
 * stream (KEYS[3]) and published with the entry id, so a query-api can tell live messages from
 * replayed ones and resume an SSE client exactly where it left off; both happen here, so the
 * stream's order is the publish order. Deltas carry per-value times, so every one is published,
 * whatever the cache did with its state. The id is spliced into the JSON text rather than
 * re-encoded with cjson, which would round numbers to 14 digits.
 * The stream is capped by entries (ARGV[5]) and by bytes (ARGV[6]): KEYS[4] holds a running count
 * of the bytes it holds (each text charged 3/2 of its length plus ARGV[7]), and the oldest entries are trimmed exactly
 * (XTRIM MINID) until both caps hold; the newest entry always stays. A count that went missing while
 * the stream exists is recounted once; an empty stream resets it.
 */
const SCRIPT = `
local written = 0
local current = redis.call('HGET', KEYS[1], 'v')
if not current or tonumber(current) < tonumber(ARGV[1]) then
  redis.call('HSET', KEYS[1], 'v', ARGV[1], 'b', ARGV[2])
  redis.call('EXPIRE', KEYS[1], ARGV[3])
  written = 1
end
if ARGV[4] == '' then return written end
local overhead = tonumber(ARGV[7])
local function charge(text) return #text + math.floor(#text / 2) + overhead end
local len = redis.call('XLEN', KEYS[3])
local bytes = tonumber(redis.call('GET', KEYS[4]) or '-1')
if len == 0 then
  bytes = 0
elseif bytes < 0 then
  bytes = 0
  local from = '-'
  while true do
    local page = redis.call('XRANGE', KEYS[3], from, '+', 'COUNT', 1000)
    for _, entry in ipairs(page) do
      bytes = bytes + charge(entry[2][2])
      from = '(' .. entry[1]
    end
    if #page < 1000 then break end
  end
end
local id = redis.call('XADD', KEYS[3], '*', 'u', ARGV[4])
len = len + 1
bytes = bytes + charge(ARGV[4])
local maxLen = tonumber(ARGV[5])
local maxBytes = tonumber(ARGV[6])
if len > maxLen or bytes > maxBytes then
  local from = '-'
  local keep = nil
  while keep == nil do
    local page = redis.call('XRANGE', KEYS[3], from, '+', 'COUNT', 100)
    if #page == 0 then break end
    for _, entry in ipairs(page) do
      if len <= 1 or (len <= maxLen and bytes <= maxBytes) then
        keep = entry[1]
        break
      end
      bytes = bytes - charge(entry[2][2])
      len = len - 1
      from = '(' .. entry[1]
    end
  end
  if keep then redis.call('XTRIM', KEYS[3], 'MINID', keep) end
end
redis.call('SET', KEYS[4], bytes)
redis.call('PUBLISH', KEYS[2], '{"id":"' .. id .. '",' .. string.sub(ARGV[4], 2))
return written`;

const COMMAND = 'strataWriteState';

type ScriptRunner = (
  stateKey: string,
  channel: string,
  stream: string,
  streamBytes: string,
  version: number,
  body: string,
  ttl: number,
  live: string,
  maxLen: number,
  maxBytes: number,
  entryOverhead: number,
) => unknown;

/** The running byte count of a tenant's live stream, beside it. */
export const liveStreamBytesKey = (prefix: string, tenantId: string): string => `${liveStreamKey(prefix, tenantId)}:bytes`;

/** Registers the script on a connection once (ioredis then calls it by SHA, loading it if needed). */
export function defineWriteStateCommand(redis: Redis): void {
  redis.defineCommand(COMMAND, { numberOfKeys: 4, lua: SCRIPT });
}

export interface WriteThroughOptions {
  prefix: string;
  ttlSeconds: number;
  /** Bytes a tenant's live stream may hold (LIVE_STREAM_MAX_BYTES). */
  liveStreamMaxBytes: number;
}

/** Writes the states of one projected batch in one pipelined round trip; returns how many moved the cache forward. */
export async function writeThroughStates(redis: Redis, options: WriteThroughOptions, states: ProjectedState[]): Promise<number> {
  if (states.length === 0) return 0;
  const { prefix, ttlSeconds, liveStreamMaxBytes } = options;
  const maxMessage = liveMessageMaxBytes(liveStreamMaxBytes);
  const pipeline = redis.pipeline();
  const run = (pipeline as unknown as Record<string, ScriptRunner>)[COMMAND] as ScriptRunner;
  for (const state of states) {
    const body = JSON.stringify({ device: state.device, ts: state.ts, values: state.values, updatedAt: state.updatedAt });
    run.call(
      pipeline,
      redisKeys.deviceState(prefix, state.tenantId, state.device),
      redisKeys.liveChannel(prefix, state.tenantId),
      liveStreamKey(prefix, state.tenantId),
      liveStreamBytesKey(prefix, state.tenantId),
      state.version,
      body,
      ttlSeconds,
      liveDelta(state, maxMessage) ?? '',
      LIVE_STREAM_MAXLEN,
      liveStreamMaxBytes,
      LIVE_ENTRY_OVERHEAD_BYTES,
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
