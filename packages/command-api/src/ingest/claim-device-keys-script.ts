import { EVENT_LIMITS } from '@strata/core';
import { LuaScript } from './lua-script.ts';

/** The length of every registry member (a digest of a value-key name). */
export const DIGEST_LENGTH = 11;
/** The seed argument of a device whose stored keys were not sent. */
export const NO_SEED = '*';
/**
 * A registry set whose name ends so holds a device's label names (issue 13), capped at
 * EVENT_LIMITS.maxLabels instead of MAX_KEYS_PER_DEVICE. `#` cannot occur in a device name
 * (DEVICE_PATTERN), so no device's value-key set can end this way.
 */
export const LABEL_SET_SUFFIX = '#labels';

/**
 * One atomic step for several requests at once (KeyClaimBatcher gathers the requests in flight
 * together, so a burst of first writes costs one round trip, not one each). Each request is claimed
 * on its own, all or nothing, in the order given; a later request sees what an earlier one added.
 *
 * For every device (KEYS, the registry sets of all requests end to end) the script gets the request's
 * key digests the caller did not already know, and optionally the digests of the keys the device's
 * stored state holds (the seed, for a registry entry that does not exist yet).
 *
 * ARGV: cap (of value-key sets; label sets have EVENT_LIMITS.maxLabels), ttlSeconds, then per
 * request its number of devices n followed by, per device, two
 * strings: its digests packed end to end (every digest is 11 characters, so a request of 10,000
 * devices × 20 new keys is 20,000 arguments, not 220,000, which overflowed the call stack spreading
 * them), and its seed packed the same way, or "*" for no seed.
 * Returns one reply per request, in order: {0} (every device within the cap: all digests added,
 * entries' TTL renewed), {1, i...} (these devices, numbered from 1 within the request, have no entry
 * and need a seed; nothing changed), or {2, i, count, ...} (these devices would hold `count` keys,
 * past the cap; nothing changed). Nothing of a request is written unless every one of its devices
 * fits, so a refused request leaves no trace, whatever the other requests of the call do.
 */
export const CLAIM_DEVICE_KEYS = new LuaScript(`
local value_cap = tonumber(ARGV[1])
local ttl = tonumber(ARGV[2])
local CHUNK = 1000
local LABEL_SUFFIX = '${LABEL_SET_SUFFIX}'
local LABEL_CAP = ${EVENT_LIMITS.maxLabels}

-- Label-name sets (the key ends in LABEL_SUFFIX) have the label cap, value-key sets ARGV[1].
local function cap_of(key)
  if string.sub(key, -#LABEL_SUFFIX) == LABEL_SUFFIX then return LABEL_CAP end
  return value_cap
end

local function each_chunk(first, last, fn)
  local from = first
  while from <= last do
    local to = math.min(from + CHUNK - 1, last)
    fn(from, to)
    from = to + 1
  end
end

local function unpack_digests(packed)
  local list = {}
  for at = 1, #packed, ${DIGEST_LENGTH} do list[#list + 1] = string.sub(packed, at, at + ${DIGEST_LENGTH - 1}) end
  return list
end

local function claim(first_key, first_arg, devices)
  local plans = {}
  local missing = {}
  local over = {}
  for i = 1, devices do
    local key = KEYS[first_key + i - 1]
    local names = unpack_digests(ARGV[first_arg + 2 * (i - 1)])
    local seedArg = ARGV[first_arg + 2 * (i - 1) + 1]
    local seed = nil
    if seedArg ~= '${NO_SEED}' then seed = unpack_digests(seedArg) end
    local exists = redis.call('EXISTS', key) == 1
    if not exists and seed == nil then
      missing[#missing + 1] = i
    else
      local count = 0
      local added = {}
      if exists then
        count = redis.call('SCARD', key)
        each_chunk(1, #names, function(from, to)
          local member = redis.call('SMISMEMBER', key, unpack(names, from, to))
          for j = from, to do
            if member[j - from + 1] == 0 then added[#added + 1] = names[j] end
          end
        end)
      else
        local seen = {}
        for _, digest in ipairs(seed) do
          if not seen[digest] then seen[digest] = true; count = count + 1 end
        end
        for _, digest in ipairs(names) do
          if not seen[digest] then seen[digest] = true; added[#added + 1] = digest end
        end
      end
      if #added > 0 and count + #added > cap_of(key) then
        over[#over + 1] = i
        over[#over + 1] = count + #added
      end
      plans[#plans + 1] = { key = key, exists = exists, seed = seed, added = added }
    end
  end
  if #missing > 0 then
    table.insert(missing, 1, 1)
    return missing
  end
  if #over > 0 then
    table.insert(over, 1, 2)
    return over
  end
  for _, plan in ipairs(plans) do
    if not plan.exists and #plan.seed > 0 then
      each_chunk(1, #plan.seed, function(from, to)
        redis.call('SADD', plan.key, unpack(plan.seed, from, to))
      end)
    end
    each_chunk(1, #plan.added, function(from, to)
      redis.call('SADD', plan.key, unpack(plan.added, from, to))
    end)
    if redis.call('EXISTS', plan.key) == 1 then redis.call('EXPIRE', plan.key, ttl) end
  end
  return {0}
end

local replies = {}
local next_key = 1
local next_arg = 3
while next_arg <= #ARGV do
  local devices = tonumber(ARGV[next_arg])
  replies[#replies + 1] = claim(next_key, next_arg + 1, devices)
  next_key = next_key + devices
  next_arg = next_arg + 1 + 2 * devices
end
return replies
`);
