import { AppError, redisKeys, type Logger, type Redis } from '@strata/core';
import { LuaScript } from './lua-script.ts';

// GCRA (a token bucket kept as one number): the key holds the "theoretical arrival time" (TAT) of the
// tenant's next event in microseconds of Redis' own clock, so every instance shares one clock and
// one count. Each accepted event moves the TAT on by 1/rate s; a request is refused while the TAT
// would run more than one second (the burst) ahead of now. A tenant with no backlog may always send
// one request, however many events it carries (up to the 10,000 a request may hold): it then waits
// that debt off, so the average rate still holds and a large batch is never refused forever.
// Returns 0 when accepted, else the microseconds to wait.
const SCRIPT = new LuaScript(`
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local events = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local due = tat + events * interval
if tat > now and due - now > burst then
  return math.ceil(math.min(tat - now, due - burst - now))
end
redis.call('SET', KEYS[1], string.format('%.0f', due), 'PX', math.ceil((due - now) / 1000) + 1000)
return 0
`);

const BURST_MICROS = 1_000_000;

/**
 * The ingest rate limit: events (not requests) per second per tenant, shared by every command-api
 * instance through the queue Redis. Runs after authentication (the tenant comes from the key) and
 * after validation (only events that would be stored are counted).
 */
export class IngestRateLimiter {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #eventsPerSecond: number;
  readonly #logger: Logger;
  #lastWarned = 0;

  constructor(redis: Redis, prefix: string, eventsPerSecond: number, logger: Logger) {
    this.#redis = redis;
    this.#prefix = prefix;
    this.#eventsPerSecond = eventsPerSecond;
    this.#logger = logger;
  }

  /** Counts `events` against the tenant's rate; throws 429 with retry-after when it is over. */
  async take(tenantId: string, events: number): Promise<void> {
    if (this.#eventsPerSecond <= 0) return;
    let waitMicros: number;
    try {
      const result = await SCRIPT.run(this.#redis, [redisKeys.ingestRate(this.#prefix, tenantId)], [
        1_000_000 / this.#eventsPerSecond,
        BURST_MICROS,
        events,
      ]);
      waitMicros = Number(result);
    } catch (error) {
      // A Redis that cannot count cannot take the batch either: the queue write will answer 503.
      // Refusing here too would only add a second way to fail.
      // Once every few seconds is enough while Redis is away: every request would otherwise log.
      if (Date.now() - this.#lastWarned > 5000) {
        this.#lastWarned = Date.now();
        this.#logger.warn({ err: error }, 'ingest rate limit unavailable; requests let through');
      }
      return;
    }
    if (waitMicros <= 0) return;
    const retryAfter = Math.max(1, Math.ceil(waitMicros / 1_000_000));
    throw new AppError(
      429,
      'rate_limited',
      `over the tenant's rate of ${this.#eventsPerSecond} events per second (INGEST_RATE_LIMIT_EVENTS_PER_SECOND); retry after ${retryAfter} s`,
      { headers: { 'retry-after': String(retryAfter) } },
    );
  }
}
