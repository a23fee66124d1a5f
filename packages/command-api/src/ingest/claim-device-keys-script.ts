import { LuaScript } from './lua-script.ts';

/**
 * One atomic step for a whole request: for every device (KEYS[i], its registry set) the script gets
 * the request's key digests the caller did not already know, and optionally the digests of the keys the
 * device's stored state holds (the seed, for a registry entry that does not exist yet).
 *
 * ARGV: cap, ttlSeconds, then per device: n, n digests, m (-1 = no seed sent), m seed digests.
 * Returns {0} (every device within the cap: all digests added, entries' TTL renewed),
 * {1, i...} (these devices have no entry and need a seed; nothing changed), or
 * {2, i, count, ...} (these devices would hold `count` keys, past the cap; nothing changed).
 * Nothing is written unless every device of the request fits, so a refused request leaves no trace.
 */
export const CLAIM_DEVICE_KEYS = new LuaScript(`
local cap = tonumber(ARGV[1])
local ttl = tonumber(ARGV[2])
local CHUNK = 1000

local function each_chunk(first, last, fn)
  local from = first
  while from <= last do
    local to = math.min(from + CHUNK - 1, last)
    fn(from, to)
    from = to + 1
  end
end

local pos = 3
local plans = {}
local missing = {}
local over = {}
for i = 1, #KEYS do
  local key = KEYS[i]
  local n = tonumber(ARGV[pos])
  local first = pos + 1
  pos = first + n
  local m = tonumber(ARGV[pos])
  local seedFirst = pos + 1
  if m > 0 then pos = seedFirst + m else pos = seedFirst end
  local exists = redis.call('EXISTS', key) == 1
  if not exists and m < 0 then
    missing[#missing + 1] = i
  else
    local count = 0
    local added = {}
    if exists then
      count = redis.call('SCARD', key)
      each_chunk(first, first + n - 1, function(from, to)
        local member = redis.call('SMISMEMBER', key, unpack(ARGV, from, to))
        for j = from, to do
          if member[j - from + 1] == 0 then added[#added + 1] = ARGV[j] end
        end
      end)
    else
      local seen = {}
      for j = seedFirst, seedFirst + m - 1 do
        if not seen[ARGV[j]] then seen[ARGV[j]] = true; count = count + 1 end
      end
      for j = first, first + n - 1 do
        if not seen[ARGV[j]] then seen[ARGV[j]] = true; added[#added + 1] = ARGV[j] end
      end
    end
    if #added > 0 and count + #added > cap then
      over[#over + 1] = i
      over[#over + 1] = count + #added
    end
    plans[#plans + 1] = { key = key, exists = exists, seedFirst = seedFirst, m = m, added = added }
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
  if not plan.exists and plan.m > 0 then
    each_chunk(plan.seedFirst, plan.seedFirst + plan.m - 1, function(from, to)
      redis.call('SADD', plan.key, unpack(ARGV, from, to))
    end)
  end
  each_chunk(1, #plan.added, function(from, to)
    redis.call('SADD', plan.key, unpack(plan.added, from, to))
  end)
  if redis.call('EXISTS', plan.key) == 1 then redis.call('EXPIRE', plan.key, ttl) end
end
return {0}
`);
