import { AppError, CallBatcher, redisKeys, ThrottledLogger, type Logger, type Redis } from '@strata/core';
import { LuaScript } from './lua-script.ts';

// GCRA (a token bucket kept as one number): the key holds the "theoretical arrival time" (TAT) of the
// tenant's next event in microseconds of Redis' own clock, so every instance shares one clock and
// one count. Each accepted event moves the TAT on by 1/rate s; a request is refused while the TAT
// would run more than one second (the burst) ahead of now. A tenant with no backlog may always send
// one request, however many events it carries (up to the 10,000 a request may hold): it then waits
// that debt off, so the average rate still holds and a large batch is never refused forever.
// One call takes for several requests (KEYS[i] is request i's tenant key, ARGV[2 + i] its events), in
// order, exactly as one call each would: a later request of the same tenant sees the earlier's TAT.
// Returns, per request, 0 when accepted, else the microseconds to wait.
const SCRIPT = new LuaScript(`
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local waits = {}
for i = 1, #KEYS do
  local events = tonumber(ARGV[2 + i])
  local tat = tonumber(redis.call('GET', KEYS[i]) or '0')
  if tat < now then tat = now end
  local due = tat + events * interval
  if tat > now and due - now > burst then
    waits[i] = math.ceil(math.min(tat - now, due - burst - now))
  else
    redis.call('SET', KEYS[i], string.format('%.0f', due), 'PX', math.ceil((due - now) / 1000) + 1000)
    waits[i] = 0
  end
end
return waits
`);

const BURST_MICROS = 1_000_000;

interface Take {
  key: string;
  events: number;
}

/**
 * The ingest rate limit: events (not requests) per second per tenant, shared by every command-api
 * instance through the queue Redis. Runs after authentication (the tenant comes from the key), before
 * validation (every event a request carries counts). The takes of concurrent requests share one script
 * call (CallBatcher), so the limit costs a round trip per group of requests, not per request.
 */
export class IngestRateLimiter {
  readonly #prefix: string;
  readonly #eventsPerSecond: number;
  readonly #unavailable: ThrottledLogger;
  readonly #calls: CallBatcher<Take, number>;

  constructor(redis: Redis, prefix: string, eventsPerSecond: number, logger: Logger) {
    this.#prefix = prefix;
    this.#eventsPerSecond = eventsPerSecond;
    this.#unavailable = new ThrottledLogger(logger, 5000);
    this.#calls = new CallBatcher(
      async (takes) => {
        const args = [1_000_000 / this.#eventsPerSecond, BURST_MICROS, ...takes.map((take) => take.events)];
        return ((await SCRIPT.run(redis, takes.map((take) => take.key), args)) as unknown[]).map(Number);
      },
      { callsInFlight: 2, maxWeight: 1000, weight: () => 1 },
    );
  }

  /** Whether take() can ever refuse (a limit of 0 turns it off: take() then resolves at once). */
  get enabled(): boolean {
    return this.#eventsPerSecond > 0;
  }

  /** Counts `events` against the tenant's rate; throws 429 with retry-after when it is over. */
  async take(tenantId: string, events: number): Promise<void> {
    if (!this.enabled) return;
    let waitMicros: number;
    try {
      waitMicros = await this.#calls.submit({ key: redisKeys.ingestRate(this.#prefix, tenantId), events });
    } catch (error) {
      // A Redis that cannot count cannot take the batch either: the queue write will answer 503.
      // Refusing here too would only add a second way to fail.
      // Once every few seconds is enough while Redis is away: every request would otherwise log.
      this.#unavailable.warn('ingest rate', { err: error }, 'ingest rate limit unavailable; requests let through');
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
