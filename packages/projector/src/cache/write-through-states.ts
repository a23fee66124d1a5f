import { CACHED_STATE_FIELDS, encodeCachedValueState, IS_LIVE_WATCHED_LUA, LIVE_ENTRY_FIELD, LIVE_STREAM_MAXLEN, redisKeys, type Redis } from '@strata/core';
import type { ProjectedState } from '../queries/project-batch.ts';
import { liveDelta, liveMessageMaxBytes } from './live-delta.ts';
import type { LiveWatchHints } from './live-watch-hints.ts';

/**
 * What Redis spends per stream entry beyond the message text (id, listpack entry header, radix tree
 * share), on top of half the text for listpack nodes allocated in 4 KiB steps and the
 * allocator's size classes (measured with MEMORY USAGE, test/live-deltas.test.ts). Charged to the
 * byte count so the cap bounds the stream's memory, not only its payload.
 */
export const LIVE_ENTRY_OVERHEAD_BYTES = 64;

/*
 * One call per tenant and chunk of a drain's states (a drain touches thousands of devices; one call
 * each made Redis the busiest process of the projection, issue 10).
 * Cache: newer-version-wins, atomically in Redis, per device: two projectors may finish batches for
 * one device in either order, and the cache must end on the highest device_state.version (whole
 * states, one key per device, so its size is bounded by the device's own; the entry is core's
 * schemas/cached-state.ts).
 * Live: each projection's delta (empty when nothing changed) is appended to the tenant's stream
 * (KEYS[2]) and published with the entry id (KEYS[1]), so a query-api can tell live messages from
 * replayed ones and resume an SSE client exactly where it left off; both happen here, so the
 * stream's order is the publish order. Deltas carry per-value times, so every one is published,
 * whatever the cache did with its state. Only while the tenant is watched (KEYS[4], core's
 * redis/live-watch.ts): query-api keeps it watched while the tenant has a live client and
 * LIVE_RESUME_SECONDS after the last one left, and marks it before a new stream answers, so a client is never told it is connected while its updates are
 * still being skipped (Redis runs the mark and this script one after the other). A tenant nobody
 * watches costs no stream writes: they were a sixth of the pipeline's throughput (decision 0087).
 * The message format is core's (schemas/live-message.ts): the id is spliced into the JSON text as its
 * liveMessageFromEntry does, rather than re-encoded with cjson, which would round numbers to 14
 * digits (test/live-message-format.test.ts holds the two alike).
 * The stream is capped by entries (ARGV[2]) and by bytes (ARGV[3]): KEYS[3] holds a running count
 * of the bytes it holds (each text charged 3/2 of its length plus ARGV[4]), and the oldest entries
 * are trimmed exactly (XTRIM MINID) until both caps hold; the newest entry always stays. Within one
 * call the stream may pass its caps by an eighth before it is trimmed (trimming after every entry
 * cost a range scan each); when the call ends both caps hold. A count that went missing while the
 * stream exists is recounted once; an empty stream resets it.
 * ARGV[5] is the call's mode (decision 0098): 'all' writes the cache entries and logs the deltas;
 * 'cache' carries no deltas (the projector believed the tenant unwatched and did not encode them);
 * 'live' carries only deltas, for a 'cache' call that found the tenant watched after all (no cache
 * writes: the first call made them). Returns the watch mark as the script read it (1 watched, 0 not),
 * then, per device, 1 when its cache entry moved forward. KEYS[5..] are the device keys;
 * ARGV[6 + 3(i-1) ..] their version, body and live delta.
 */
const SCRIPT = `${IS_LIVE_WATCHED_LUA}
local ttl = ARGV[1]
local maxLen = tonumber(ARGV[2])
local maxBytes = tonumber(ARGV[3])
local overhead = tonumber(ARGV[4])
local function charge(text) return #text + math.floor(#text / 2) + overhead end
local len = nil
local bytes = nil
local function trim()
  local from = '-'
  local keep = nil
  while keep == nil do
    local page = redis.call('XRANGE', KEYS[2], from, '+', 'COUNT', 100)
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
  if keep then redis.call('XTRIM', KEYS[2], 'MINID', keep) end
end
local mode = ARGV[5]
local watched = isLiveWatched(KEYS[4])
local written = {watched and 1 or 0}
for i = 5, #KEYS do
  local at = 6 + (i - 5) * 3
  local version = ARGV[at]
  local live = ARGV[at + 2]
  written[i - 3] = 0
  if mode ~= 'live' then
    local current = redis.call('HGET', KEYS[i], '${CACHED_STATE_FIELDS.version}')
    if not current or tonumber(current) < tonumber(version) then
      redis.call('HSET', KEYS[i], '${CACHED_STATE_FIELDS.version}', version, '${CACHED_STATE_FIELDS.body}', ARGV[at + 1])
      redis.call('EXPIRE', KEYS[i], ttl)
      written[i - 3] = 1
    end
  end
  if live ~= '' and watched then
    if len == nil then
      len = redis.call('XLEN', KEYS[2])
      bytes = tonumber(redis.call('GET', KEYS[3]) or '-1')
      if len == 0 then
        bytes = 0
      elseif bytes < 0 then
        bytes = 0
        local from = '-'
        while true do
          local page = redis.call('XRANGE', KEYS[2], from, '+', 'COUNT', 1000)
          for _, entry in ipairs(page) do
            bytes = bytes + charge(entry[2][2])
            from = '(' .. entry[1]
          end
          if #page < 1000 then break end
        end
      end
    end
    local id = redis.call('XADD', KEYS[2], '*', '${LIVE_ENTRY_FIELD}', live)
    len = len + 1
    bytes = bytes + charge(live)
    if len > maxLen + math.floor(maxLen / 8) or bytes > maxBytes + math.floor(maxBytes / 8) then trim() end
    redis.call('PUBLISH', KEYS[1], '{"id":"' .. id .. '",' .. string.sub(live, 2))
  end
end
if len ~= nil then
  if len > maxLen or bytes > maxBytes then trim() end
  redis.call('SET', KEYS[3], bytes)
end
return written`;

const COMMAND = 'strataWriteStates';

/**
 * Devices per script call: a call holds Redis for its whole run, so a drain's thousands of states go
 * as several calls in one pipeline, each short enough not to stall other clients.
 */
const STATES_PER_CALL = 200;

type ScriptRunner = (numberOfKeys: number, ...args: (string | number)[]) => unknown;

/** Registers the script on a connection once (ioredis then calls it by SHA, loading it if needed). */
export function defineWriteStateCommand(redis: Redis): void {
  redis.defineCommand(COMMAND, { lua: SCRIPT });
}

export interface WriteThroughOptions {
  prefix: string;
  ttlSeconds: number;
  /** Bytes a tenant's live stream may hold (LIVE_STREAM_MAX_BYTES). */
  liveStreamMaxBytes: number;
  /**
   * The projector's per-tenant hints (decision 0098): a tenant last reported unwatched gets no live
   * deltas encoded. Without hints every delta is encoded and the script alone decides.
   */
  hints?: LiveWatchHints;
}

export interface WriteThroughResult {
  /** States that moved their cache entry forward (the others found a newer or equal version there, or failed). */
  written: number;
  /** States whose script call failed: neither their cache entry nor their live update was written. */
  failed: number;
  /**
   * States whose live delta was computed: sent with it (it may be empty: nothing changed), or due for a
   * resend that was not sent because none of its states changed anything.
   */
  deltasEncoded: number;
  /** States sent without their live delta because their tenant was believed unwatched, and still was. */
  deltasSkipped: number;
  /** Script calls sent again with their deltas: believed unwatched, found watched. */
  resent: number;
  /** States whose resend failed: their cache entry is written, their live update was not logged. */
  resendFailed: number;
  /** The tenants of the failed calls and resends, and what Redis said (for the log). */
  errors: { tenantId: string; resend: boolean; error: Error }[];
}

type Mode = 'all' | 'cache' | 'live';

interface Call {
  tenantId: string;
  states: ProjectedState[];
  mode: Mode;
}

/**
 * Writes the states of one projection in one pipelined round trip (two when a tenant believed
 * unwatched turned out watched: its deltas follow in a second call, so a client that arrived
 * meanwhile misses nothing). Never throws: each call succeeds or fails on its own (one tenant's
 * failed call must not cost another tenant its resend), and the result says which did what.
 *
 * Order: the live stream of a tenant holds one projector's updates in the order of its write-throughs.
 * A resend goes out a round trip after its first call; a later write-through that encodes the
 * tenant's deltas at once (the hint turned "watched" meanwhile) waits until every earlier call of
 * the tenant that carried no deltas has been answered and its resend queued on the connection
 * (hints.settled), so it cannot log a newer version of a device before the older one. Later calls
 * without deltas need no wait: their replies and resends follow in the connection's order.
 */
export async function writeThroughStates(redis: Redis, options: WriteThroughOptions, states: ProjectedState[]): Promise<WriteThroughResult> {
  const result: WriteThroughResult = { written: 0, failed: 0, deltasEncoded: 0, deltasSkipped: 0, resent: 0, resendFailed: 0, errors: [] };
  if (states.length === 0) return result;
  const { hints } = options;
  const byTenant = new Map<string, ProjectedState[]>();
  for (const state of states) {
    const list = byTenant.get(state.tenantId);
    if (list) list.push(state);
    else byTenant.set(state.tenantId, [state]);
  }
  const calls: Call[] = [];
  const waits: Promise<void>[] = [];
  // Decided, waited-for and noted in one synchronous step, before any await: what this write waits
  // for was noted before it, and what it notes is waited for only by later writes (no cycle).
  const releases: (() => void)[] = [];
  for (const [tenantId, tenantStates] of byTenant) {
    const mode: Mode = hints && !hints.encodeDeltas(tenantId) ? 'cache' : 'all';
    if (hints && mode === 'all') {
      const pending = hints.settled(tenantId);
      if (pending) waits.push(pending);
    }
    if (hints && mode === 'cache') releases.push(hints.unsettled(tenantId));
    for (let from = 0; from < tenantStates.length; from += STATES_PER_CALL) {
      calls.push({ tenantId, states: tenantStates.slice(from, from + STATES_PER_CALL), mode });
    }
  }
  let resends: Promise<[Call, number[] | Error][]> | undefined;
  const again: Call[] = [];
  try {
    if (waits.length > 0) await Promise.all(waits);
    for (const [call, reply] of await runCalls(redis, options, calls)) {
      if (reply instanceof Error) {
        result.failed += call.states.length;
        result.errors.push({ tenantId: call.tenantId, resend: false, error: reply });
        continue;
      }
      const [watched, ...moved] = reply;
      for (const one of moved) result.written += one;
      hints?.learn(call.tenantId, watched === 1);
      if (call.mode === 'cache' && watched === 1) again.push({ ...call, mode: 'live' });
      else if (call.mode === 'cache') result.deltasSkipped += call.states.length;
      else result.deltasEncoded += call.states.length;
    }
    // A resend whose states changed nothing would log nothing: not sent.
    const needed = again.filter((call) => call.states.some((state) => state.changed.length > 0));
    result.deltasEncoded += again.reduce((sum, call) => sum + call.states.length, 0);
    if (needed.length > 0) resends = runCalls(redis, options, needed);
  } finally {
    for (const release of releases) release();
  }
  if (resends) {
    for (const [call, reply] of await resends) {
      if (reply instanceof Error) {
        result.resendFailed += call.states.length;
        result.errors.push({ tenantId: call.tenantId, resend: true, error: reply });
      } else {
        result.resent += 1;
        hints?.learn(call.tenantId, reply[0] === 1);
      }
    }
  }
  return result;
}

/**
 * One pipeline of script calls, queued on the connection before this returns its promise (so a later
 * pipeline is answered after it); each call's reply (the watch mark, then 1/0 per device) or error, in
 * order. A pipeline that fails whole (the connection is gone) fails each of its calls.
 */
function runCalls(redis: Redis, options: WriteThroughOptions, calls: Call[]): Promise<[Call, number[] | Error][]> {
  const { prefix, ttlSeconds, liveStreamMaxBytes } = options;
  const maxMessage = liveMessageMaxBytes(liveStreamMaxBytes);
  const pipeline = redis.pipeline();
  const run = (pipeline as unknown as Record<string, ScriptRunner>)[COMMAND] as ScriptRunner;
  for (const { tenantId, states, mode } of calls) {
    const keys = [
      redisKeys.liveChannel(prefix, tenantId),
      redisKeys.liveStream(prefix, tenantId),
      redisKeys.liveStreamBytes(prefix, tenantId),
      redisKeys.liveWatch(prefix, tenantId),
    ];
    const args: (string | number)[] = [ttlSeconds, LIVE_STREAM_MAXLEN, liveStreamMaxBytes, LIVE_ENTRY_OVERHEAD_BYTES, mode];
    for (const state of states) {
      keys.push(redisKeys.deviceState(prefix, tenantId, state.device));
      const body = mode === 'live' ? '' : encodeCachedValueState(state.device, state.ts, state.state, state.updatedAt);
      const live = mode === 'cache' ? '' : (liveDelta(state, maxMessage) ?? '');
      args.push(state.version, body, live);
    }
    run.call(pipeline, keys.length, ...keys, ...args);
  }
  return pipeline.exec().then(
    (replies) =>
      calls.map((call, index): [Call, number[] | Error] => {
        const [error, value] = replies?.[index] ?? [new Error('write-through: no reply for a script call')];
        return [call, error ?? (value as number[])];
      }),
    (error: unknown) => calls.map((call): [Call, Error] => [call, error instanceof Error ? error : new Error(String(error))]),
  );
}
