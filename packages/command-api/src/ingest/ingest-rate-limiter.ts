import { AppError, CallBatcher, redisKeys, ThrottledLogger, type Logger, type Redis } from '@strata/core';
import { LuaScript } from './lua-script.ts';

// GCRA (a token bucket kept as one number): a key holds the "theoretical arrival time" (TAT) of the
// tenant's next unit in microseconds of Redis' own clock, so every instance shares one clock and one
// count. Each accepted unit moves the TAT on by 1/rate s; a request is refused while the TAT would run
// more than one second (the burst) ahead of now. A tenant with no backlog may always send one request,
// however much it carries (up to the 10,000 events and MAX_BODY_BYTES a request may hold): it then
// waits that debt off, so the average rate still holds and a large batch is never refused forever.
// Two buckets per tenant, events and body bytes (decision 0124): a request is taken from both or from
// neither, and an interval of 0 (that limit off) or an amount of 0 skips a bucket.
// One call takes for several requests (KEYS[2i-1], KEYS[2i] are request i's event and byte keys,
// ARGV[3 + 2i - 1], ARGV[3 + 2i] its events and bytes), in order, exactly as one call each would: a
// later request of the same tenant sees the earlier's TATs.
// Returns two numbers per request: 0 and 0 when accepted, else the microseconds to wait and the bucket
// that refused (1 events, 2 bytes; the one with the longer wait when both do).
const SCRIPT = new LuaScript(`
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local intervals = { tonumber(ARGV[1]), tonumber(ARGV[2]) }
local burst = tonumber(ARGV[3])
local out = {}
for i = 1, #KEYS / 2 do
  local due = {}
  local wait = 0
  local over = 0
  for k = 1, 2 do
    local amount = tonumber(ARGV[3 + 2 * (i - 1) + k])
    if intervals[k] > 0 and amount > 0 then
      local tat = tonumber(redis.call('GET', KEYS[2 * (i - 1) + k]) or '0')
      if tat < now then tat = now end
      local d = tat + amount * intervals[k]
      if tat > now and d - now > burst then
        local w = math.ceil(math.min(tat - now, d - burst - now))
        if w > wait then
          wait = w
          over = k
        end
      end
      due[k] = d
    end
  end
  if wait == 0 then
    for k = 1, 2 do
      if due[k] then
        redis.call('SET', KEYS[2 * (i - 1) + k], string.format('%.0f', due[k]), 'PX', math.ceil((due[k] - now) / 1000) + 1000)
      end
    end
  end
  out[2 * i - 1] = wait
  out[2 * i] = over
end
return out
`);

const BURST_MICROS = 1_000_000;

/** What the tenant limits allow, per second; 0 turns a limit off. */
export interface IngestRates {
  eventsPerSecond: number;
  /** Characters of event bodies as read (after decompression): JSON, NDJSON, line protocol, MQTT payloads. */
  bytesPerSecond: number;
}

interface Take {
  tenantId: string;
  events: number;
  bytes: number;
}

interface Refusal {
  waitMicros: number;
  /** 1: the events limit refused; 2: the bytes limit. */
  bucket: number;
}

/**
 * The ingest rate limits: events and body bytes per second per tenant, shared by every command-api
 * instance through the queue Redis. Run after authentication (the tenant comes from the key), before
 * validation (every event a request carries counts) and before a large body's turn (decision 0124: a
 * tenant over its rate takes no turn from its neighbours). The takes of concurrent requests share one
 * script call (CallBatcher), so the limits cost a round trip per group of requests, not per request.
 */
export class IngestRateLimiter {
  readonly #prefix: string;
  readonly #rates: IngestRates;
  readonly #unavailable: ThrottledLogger;
  readonly #calls: CallBatcher<Take, Refusal>;

  constructor(redis: Redis, prefix: string, rates: IngestRates, logger: Logger) {
    this.#prefix = prefix;
    this.#rates = rates;
    this.#unavailable = new ThrottledLogger(logger, 5000);
    const interval = (perSecond: number): number => (perSecond > 0 ? 1_000_000 / perSecond : 0);
    this.#calls = new CallBatcher(
      async (takes) => {
        const keys: string[] = [];
        const args: number[] = [interval(rates.eventsPerSecond), interval(rates.bytesPerSecond), BURST_MICROS];
        for (const take of takes) {
          keys.push(redisKeys.ingestRate(this.#prefix, take.tenantId), redisKeys.ingestByteRate(this.#prefix, take.tenantId));
          args.push(take.events, take.bytes);
        }
        const out = ((await SCRIPT.run(redis, keys, args)) as unknown[]).map(Number);
        return takes.map((_, i) => ({ waitMicros: out[2 * i] ?? 0, bucket: out[2 * i + 1] ?? 0 }));
      },
      { callsInFlight: 2, maxWeight: 1000, weight: () => 1 },
    );
  }

  /** Whether take() can ever refuse (limits of 0 turn it off: take() then resolves at once). */
  get enabled(): boolean {
    return this.#rates.eventsPerSecond > 0 || this.#rates.bytesPerSecond > 0;
  }

  /**
   * Counts `events` and `bytes` (characters of the body as read; 0 for a write that is not an event
   * body) against the tenant's rates; throws 429 with retry-after when either is over.
   */
  async take(tenantId: string, events: number, bytes: number): Promise<void> {
    if (!this.enabled) return;
    let refusal: Refusal;
    try {
      refusal = await this.#calls.submit({ tenantId, events, bytes: Math.max(0, Math.ceil(bytes)) });
    } catch (error) {
      // A Redis that cannot count cannot take the batch either: the queue write will answer 503.
      // Refusing here too would only add a second way to fail.
      // Once every few seconds is enough while Redis is away: every request would otherwise log.
      this.#unavailable.warn('ingest rate', { err: error }, 'ingest rate limit unavailable; requests let through');
      return;
    }
    if (refusal.waitMicros <= 0) return;
    const retryAfter = Math.max(1, Math.ceil(refusal.waitMicros / 1_000_000));
    const rate = refusal.bucket === 2
      ? `${this.#rates.bytesPerSecond} bytes per second of event bodies (INGEST_RATE_LIMIT_BYTES_PER_SECOND)`
      : `${this.#rates.eventsPerSecond} events per second (INGEST_RATE_LIMIT_EVENTS_PER_SECOND)`;
    throw new AppError(429, 'rate_limited', `over the tenant's rate of ${rate}; retry after ${retryAfter} s`, {
      headers: { 'retry-after': String(retryAfter) },
    });
  }
}
