import { AppError, CallBatcher, redisKeys, ThrottledLogger, type Logger, type Redis } from '@strata/core';
import { LuaScript } from './lua-script.ts';

// GCRA (a token bucket kept as one number): a key holds the "theoretical arrival time" (TAT) of the
// tenant's next unit in microseconds of Redis' own clock, so every instance shares one clock and one
// count. Each accepted unit moves the TAT on by 1/rate s; a request is refused while the TAT would run
// more than one second (the burst) ahead of now. A tenant with no backlog may always send one request,
// however much it carries (up to the 10,000 events and MAX_BODY_BYTES a request may hold): it then
// waits that debt off, so the average rate still holds and a large batch is never refused forever.
// Two buckets per tenant, events and body bytes (decision 0124): a request is taken from both or from
// neither, and an interval of 0 (that limit off) or an amount of 0 skips a bucket. TATs are kept to a
// thousandth of a microsecond: at 8 MiB/s a byte costs 0.12 µs, and whole microseconds let small
// requests through free (hostile review of 0124).
// One call takes for several requests (KEYS[2i-1], KEYS[2i] are request i's event and byte keys,
// ARGV[3 + 3i - 2], ARGV[3 + 3i - 1] its events and bytes, ARGV[3 + 3i] 1 to force it), in order,
// exactly as one call each would: a later request of the same tenant sees the earlier's TATs. A forced
// take is never refused: it charges work already done (a body read and refused, decision 0126), so
// the debt, and the hold it begins, grow with what a tenant over its rate made the server do, up to a
// minute ahead: past that a flood is held for a minute at a time, and one wave cannot lock a tenant's
// every device out for ten (second hostile review of 0126).
// Returns four numbers per request: the microseconds to wait and the bucket that refused (1 events,
// 2 bytes; the one with the longer wait when both do), 0 and 0 when accepted; then, afterwards, for
// how many microseconds the tenant refuses any request that carries something (its TAT more than the
// burst ahead of now), and which bucket holds it that long (0 and 0 when none).
const SCRIPT = new LuaScript(`
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local intervals = { tonumber(ARGV[1]), tonumber(ARGV[2]) }
local burst = tonumber(ARGV[3])
local forcedMax = 60 * burst
local out = {}
for i = 1, #KEYS / 2 do
  local tats = {}
  local due = {}
  local wait = 0
  local over = 0
  for k = 1, 2 do
    if intervals[k] > 0 then
      local tat = tonumber(redis.call('GET', KEYS[2 * (i - 1) + k]) or '0')
      if tat < now then tat = now end
      tats[k] = tat
      local amount = tonumber(ARGV[3 + 3 * (i - 1) + k])
      if amount > 0 then
        local d = tat + amount * intervals[k]
        local forced = ARGV[3 + 3 * i] == '1'
        if forced and d - now > forcedMax then d = math.max(tat, now + forcedMax) end
        if not forced and tat > now and d - now > burst then
          local w = math.ceil(math.min(tat - now, d - burst - now))
          if w > wait then
            wait = w
            over = k
          end
        end
        due[k] = d
      end
    end
  end
  if wait == 0 then
    for k = 1, 2 do
      if due[k] then
        redis.call('SET', KEYS[2 * (i - 1) + k], string.format('%.3f', due[k]), 'PX', math.ceil((due[k] - now) / 1000) + 1000)
        tats[k] = due[k]
      end
    end
  end
  local hold = 0
  local held = 0
  for k = 1, 2 do
    if tats[k] and tats[k] - now - burst > hold then
      hold = math.floor(tats[k] - now - burst)
      held = k
    end
  end
  out[4 * i - 3] = wait
  out[4 * i - 2] = over
  out[4 * i - 1] = hold
  out[4 * i] = held
end
return out
`);

const BURST_MICROS = 1_000_000;

/** What the tenant limits allow, per second; 0 turns a limit off. */
export interface IngestRates {
  eventsPerSecond: number;
  /** Bytes of event bodies as received, after decompression: JSON, NDJSON, line protocol, MQTT payloads. */
  bytesPerSecond: number;
}

interface Take {
  tenantId: string;
  events: number;
  bytes: number;
  /** Charged whatever the debt: never refused. */
  force: boolean;
}

/** A bucket of the script's answer: 1 events, 2 bytes, 0 none. */
type Bucket = 0 | 1 | 2;

interface Answer {
  waitMicros: number;
  refusedBy: Bucket;
  /** After this take, the tenant refuses any request that carries something for this long. */
  holdMicros: number;
  heldBy: Bucket;
  /** performance.now() when the call was sent: no later than Redis' now, so holds end no later than Redis' would. */
  sentAt: number;
}

interface Hold {
  /** performance.now() until which every request of the tenant would be refused. */
  until: number;
  bucket: Bucket;
}

/**
 * From this many bytes a body's bytes are taken apart from its events, before it is read (or parsed,
 * when its length was not declared): parsing it over the rate would cost more than the round trip
 * that refuses it (JSON.parse of 16 KiB is ~50 µs here). Smaller bodies, single events the most common,
 * owe their bytes and have them taken with their events, one script call for both (decision 0126).
 */
export const BYTES_TAKEN_APART_FROM = 16 * 1024;

/**
 * Bytes of a body read and not yet taken from the tenant's byte rate (decision 0126). acceptEvents
 * takes them with the request's events and clears them; what a request still owes when it is refused
 * before that is charged (IngestRateLimiter.chargeOwed). A Fastify request is one (app.ts).
 */
export interface OwedBytes {
  owedBytes: number;
  /** Bytes taken before the body was read (HTTP, by its Content-Length), else 0. */
  bytesTaken: number;
}

/** Charges of refused bodies waiting for Redis at most (see chargeRefused). */
const MAX_PENDING_CHARGES = 10_000;

/** Holds kept at most: past it, ended holds are swept (a hold is one small entry per tenant over its rate). */
const MAX_HOLDS = 10_000;

/**
 * The ingest rate limits: events and body bytes per second per tenant, shared by every command-api
 * instance through the queue Redis (decision 0124). A large body's bytes are taken before it is read or
 * parsed (takeBytes); a small body's with its events (takeOrOwe, decision 0126); events once the body
 * is parsed, before validation (every event a request carries counts) and before a large body's turn
 * (acceptEvents). The takes of concurrent requests share one script call (CallBatcher), so a small
 * body costs one round trip, shared by a group of requests, for both limits.
 *
 * Each answer also says how long the tenant is held: until a refused request's retry time, or while
 * its debt runs past the burst (after one large request), when Redis would refuse anything it sends.
 * This process then refuses the tenant's write requests before reading their bodies (refuseIfHeld),
 * without asking Redis, so a flood over the rate costs no decompression or parsing. Another
 * instance's takes only lengthen a debt; what a hold refuses beyond Redis is a request sent before a
 * refusal's retry time that would have fit the little budget left.
 */
export class IngestRateLimiter {
  readonly #prefix: string;
  readonly #rates: IngestRates;
  readonly #unavailable: ThrottledLogger;
  readonly #calls: CallBatcher<Take, Answer>;
  readonly #holds = new Map<string, Hold>();
  /** chargeRefused takes not yet answered. */
  #charging = 0;

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
          args.push(take.events, take.bytes, take.force ? 1 : 0);
        }
        const sentAt = performance.now();
        const out = ((await SCRIPT.run(redis, keys, args)) as unknown[]).map(Number);
        return takes.map((_, i) => ({
          waitMicros: out[4 * i] ?? 0,
          refusedBy: bucketOf(out[4 * i + 1]),
          holdMicros: out[4 * i + 2] ?? 0,
          heldBy: bucketOf(out[4 * i + 3]),
          sentAt,
        }));
      },
      { callsInFlight: 2, maxWeight: 1000, weight: () => 1 },
    );
  }

  /** Charges of refused bodies not yet answered by Redis (bounded; for tests and diagnosis). */
  get pendingCharges(): number {
    return this.#charging;
  }

  /** Whether take() can ever refuse (limits of 0 turn it off: take() then resolves at once). */
  get enabled(): boolean {
    return this.#rates.eventsPerSecond > 0 || this.#rates.bytesPerSecond > 0;
  }

  /**
   * Counts `events` and `bytes` (of the body as received, decompressed; 0 for a write that is not an
   * event body) against the tenant's rates; throws 429 with retry-after when either is over. `force`:
   * charged whatever the debt, never refused (work already done).
   */
  async take(tenantId: string, events: number, bytes: number, force = false): Promise<void> {
    if (!this.enabled) return;
    let answer: Answer;
    try {
      answer = await this.#calls.submit({ tenantId, events, bytes: Math.max(0, Math.ceil(bytes)), force });
    } catch (error) {
      // A Redis that cannot count cannot take an event batch either: the queue write will answer 503.
      // Refusing here too would only add a second way to fail. (Label writes, which write no queue
      // job, then pass unlimited: each still holds the tenant's label lock in PostgreSQL.)
      // Once every few seconds is enough while Redis is away: every request would otherwise log.
      this.#unavailable.warn('ingest rate', { err: error }, 'ingest rate limit unavailable; requests let through');
      return;
    }
    this.#remember(tenantId, answer);
    if (answer.waitMicros > 0) throw this.#refusal(answer.refusedBy, answer.waitMicros / 1000);
  }

  /**
   * Takes a body's bytes before it is read: a body of at least BYTES_TAKEN_APART_FROM bytes, by its
   * Content-Length (write-body-admission.ts; once read, takeOrOwe). What parsing costs is paid for before it is spent,
   * so a tenant over its byte rate gets 429 and no parse, however many of its bodies arrive at once
   * (the takes of concurrent bodies are counted one by one in one script call). Undefined, nothing to
   * wait for, when the byte limit is off. Rejects with the 429 a take would, at once (no Redis) while
   * the tenant is held.
   */
  takeBytes(tenantId: string, bytes: number): Promise<void> | undefined {
    if (this.#rates.bytesPerSecond <= 0) return undefined;
    try {
      this.refuseIfHeld(tenantId);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.take(tenantId, 0, bytes);
  }

  /**
   * A body read, not yet parsed, `bytes` of it not yet taken (decision 0126): taken now when they are
   * BYTES_TAKEN_APART_FROM or more; fewer are owed, added to `owed`, and taken with the request's
   * events in acceptEvents' one script call, or charged when the request is refused before that
   * (chargeOwed). Either way a held tenant is refused at once, unparsed, and charged what it sent.
   * Undefined when there is nothing to wait for, or nothing left to take.
   */
  takeOrOwe(tenantId: string, bytes: number, owed: OwedBytes): Promise<void> | undefined {
    if (this.#rates.bytesPerSecond <= 0 || !(bytes > 0)) return undefined;
    // What a body taken by its Content-Length grew by once decompressed is charged, never refused: the
    // body passed its take, and a body larger than the burst, taken in two parts, would otherwise
    // have its growth refused on every try. Nor may the hold its own take began refuse it.
    if (owed.bytesTaken > 0) return this.take(tenantId, 0, bytes, true);
    // The body is read (and decompressed) already: refused, it is charged all the same, or a wave of
    // gzip bodies refused at their take had 1 GB inflated for the price of one (second hostile review).
    const held = this.held(tenantId);
    if (held) {
      this.chargeRefused(tenantId, bytes);
      return Promise.reject(held.refusal);
    }
    if (bytes >= BYTES_TAKEN_APART_FROM) {
      return this.take(tenantId, 0, bytes).catch((error: unknown) => {
        if (error instanceof AppError && error.status === 429) this.chargeRefused(tenantId, bytes);
        throw error;
      });
    }
    owed.owedBytes += bytes;
    return undefined;
  }

  /** Charges what `owed` still holds (its request was refused before its events were taken) and clears it. */
  chargeOwed(tenantId: string, owed: OwedBytes): void {
    const bytes = owed.owedBytes;
    owed.owedBytes = 0;
    this.chargeRefused(tenantId, bytes);
  }

  /**
   * Charges the bytes of a body refused before, or by, its take (not decompressible, larger than
   * MAX_BODY_BYTES, not line protocol's type, aborted, refused by a rate once parsed): reading it cost
   * what it costs for a valid body, so a flood of them runs the tenant into a hold like any other.
   * Forced: charged past the burst too, so the hold grows with the work a flood makes the server do
   * (hostile review of 0126: at the burst, refused bodies went uncharged and were parsed at 11–50
   * times the rate). Never throws; the request is refused already.
   */
  chargeRefused(tenantId: string, bytes: number): void {
    if (this.#rates.bytesPerSecond <= 0 || !(bytes > 0)) return;
    // Nobody waits for these, so nothing else bounds them while Redis is slow: past the bound a
    // refused body goes uncharged rather than growing the queue.
    if (this.#charging >= MAX_PENDING_CHARGES) return;
    this.#charging++;
    this.take(tenantId, 0, bytes, true)
      .catch(() => undefined)
      .finally(() => this.#charging--);
  }

  /**
   * Throws the 429 a take would, without asking Redis, while the tenant is held: called before a
   * write request's body is read, so a tenant over its rate costs no decompression or parsing. The
   * answer closes an HTTP connection, so its unread body is not read to keep it open.
   */
  refuseIfHeld(tenantId: string): void {
    const held = this.held(tenantId);
    if (held) throw held.refusal;
  }

  /** The 429 a held tenant gets and how long its hold has left, or undefined when it is not held. */
  held(tenantId: string): { refusal: AppError; leftMs: number } | undefined {
    const hold = this.#holds.get(tenantId);
    if (hold === undefined) return undefined;
    const leftMs = hold.until - performance.now();
    if (leftMs <= 0) {
      this.#holds.delete(tenantId);
      return undefined;
    }
    return { refusal: this.#refusal(hold.bucket, leftMs, { connection: 'close' }), leftMs };
  }

  #remember(tenantId: string, answer: Answer): void {
    // Held for the longer of the two: a debt past the burst refuses anything, and a refusal means
    // the tenant is at its rate: what it sends before the retry time would be refused or barely fit,
    // so it is refused here unread (a tenant that honours retry-after never meets this).
    const [micros, bucket] = answer.waitMicros > answer.holdMicros ? [answer.waitMicros, answer.refusedBy] : [answer.holdMicros, answer.heldBy];
    if (micros <= 0) {
      this.#holds.delete(tenantId);
      return;
    }
    if (this.#holds.size >= MAX_HOLDS && !this.#holds.has(tenantId)) {
      const now = performance.now();
      for (const [tenant, hold] of this.#holds) if (hold.until <= now) this.#holds.delete(tenant);
      if (this.#holds.size >= MAX_HOLDS) return;
    }
    this.#holds.set(tenantId, { until: answer.sentAt + micros / 1000, bucket });
  }

  #refusal(bucket: Bucket, waitMs: number, headers: Record<string, string> = {}): AppError {
    const retryAfter = Math.max(1, Math.ceil(waitMs / 1000));
    const rate = bucket === 2
      ? `${this.#rates.bytesPerSecond} bytes per second of event bodies (INGEST_RATE_LIMIT_BYTES_PER_SECOND)`
      : `${this.#rates.eventsPerSecond} events per second (INGEST_RATE_LIMIT_EVENTS_PER_SECOND)`;
    return new AppError(429, 'rate_limited', `over the tenant's rate of ${rate}; retry after ${retryAfter} s`, {
      headers: { 'retry-after': String(retryAfter), ...headers },
    });
  }
}

function bucketOf(value: number | undefined): Bucket {
  return value === 1 || value === 2 ? value : 0;
}
