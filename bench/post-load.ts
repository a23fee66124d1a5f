import autocannon from 'autocannon';
import { quantile } from './percentiles.ts';

export interface LoadOptions {
  url: string;
  apiKey: string;
  connections: number;
  /** Seconds; or `amount` requests. */
  duration?: number;
  amount?: number;
  /** Requests per second across all connections (open-loop); unset = as fast as answers come. */
  overallRate?: number;
  method?: 'GET' | 'POST';
  /** Request headers; by default the tenant's key as `Bearer` and a JSON body. */
  headers?: Record<string, string>;
  /**
   * Builds the n-th request: its body for POST, its path for GET, and for a body answered `204`
   * without a count (line protocol) the events it carries. n counts across all connections.
   */
  next: (n: number) => LoadRequest;
}

export interface LoadRequest {
  body?: string | Buffer;
  path?: string;
  events?: number;
}

export interface LoadResult {
  /** Requests of the load (not the idle probes that fill connections while the last answers come). */
  requests: number;
  ok: number;
  non2xx: number;
  /** Requests never answered (socket error or timeout): their events may or may not be stored. */
  unanswered: number;
  errors: number;
  /** From the first request until the last request of the load was answered. */
  durationS: number;
  p50Ms: number;
  p99Ms: number;
  requestsPerSec: number;
  /** The sum of `accepted` over every 202 answer, and of the events of every 204'd body: the events the service acknowledged. */
  acceptedEvents: number;
}

/** The events a 202 acknowledged, from its body. */
export const ACCEPTED = /"accepted":(\d+)/;
const SETTLE_LIMIT_MS = 30_000;
const BODY_HEADERS = new Set(['content-length', 'content-encoding']);

interface RequestContext {
  /** Set when the request in flight on this connection belongs to the load. */
  load?: boolean;
  /** The events of the request in flight, as `next` counted them. */
  events?: number;
}

/**
 * One autocannon run against a Strata endpoint with the tenant's key. With a duration, autocannon
 * would cut the connections at the end with requests in flight, whose events the service accepts
 * but nobody counts. So at the end the connections send only `GET /livez` until every request of
 * the load has its answer, and only then stop: every acknowledged event is counted, and the stored
 * count can be checked for equality.
 */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  let n = 0;
  let acceptedEvents = 0;
  let answered = 0;
  let ok = 0;
  let stopping = false;
  let lastAnswerAt = performance.now();
  // Latencies are our own record of each load request's answer time (write to last byte, 2xx only).
  // autocannon's histogram is not used: with a rate it back-fills "coordinated omission" samples at
  // an expected interval of ceil(1 / rate) = 1 ms (seconds taken for milliseconds), so an answer of
  // 80 ms adds 79 synthetic ones. Measured on a stub answering in 5 ms and 0.5 % in 80 ms, at 500
  // req/s on 4 connections: autocannon p50 / p99 3 / 69 ms, the answers' own 5.8 / 12.5 ms.
  const latencies: number[] = [];
  // Set by a load request's onResponse, read by the 'response' event autocannon emits right after it
  // for the same answer (the same parser callback, synchronously).
  let answeredLoad2xx = false;
  const started = performance.now();
  let instance: autocannon.Instance | undefined;
  const settle = () => {
    if (instance && stopping && answered === n) instance.stop();
  };
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    instance = autocannon(
      {
        url: options.url,
        method: options.method ?? 'POST',
        connections: options.connections,
        ...(options.amount ? { amount: options.amount } : { duration: (options.duration ?? 10) + SETTLE_LIMIT_MS / 1000 }),
        ...(options.overallRate ? { overallRate: options.overallRate } : {}),
        headers: options.headers ?? { authorization: `Bearer ${options.apiKey}`, 'content-type': 'application/json' },
        requests: [
          {
            setupRequest: (request, context) => {
              if (stopping) {
                (context as RequestContext).load = false;
                // autocannon reuses the header object it wrote the last POST's Content-Length into: a
                // GET carrying it makes the server wait for a body that never comes (and read the next
                // request as that body), which put 100–440 ms answers and resets into the phase's p99.
                // Content-Encoding goes too: it describes the load's bodies, and a GET has none.
                const headers = Object.fromEntries(Object.entries(request.headers ?? {}).filter(([name]) => !BODY_HEADERS.has(name.toLowerCase())));
                return { ...request, method: 'GET', path: '/livez', body: undefined, headers };
              }
              const built = options.next(n++);
              Object.assign(context as RequestContext, { load: true, events: built.events });
              return { ...request, ...(built.body !== undefined ? { body: built.body } : {}), ...(built.path ? { path: built.path } : {}) };
            },
            onResponse: (status, body, context) => {
              answeredLoad2xx = false;
              if (!(context as RequestContext).load) return;
              answeredLoad2xx = status >= 200 && status < 300;
              answered++;
              lastAnswerAt = performance.now();
              if (status >= 200 && status < 300) ok++;
              if (status === 202) {
                const match = ACCEPTED.exec(body);
                if (match) acceptedEvents += Number(match[1]);
              } else if (status === 204) {
                acceptedEvents += (context as RequestContext).events ?? 0;
              }
              settle();
            },
          },
        ],
      },
      (error, finished) => (error ? reject(error) : resolve(finished)),
    );
    instance.on('response', (_client, _status, _bytes, responseTimeMs) => {
      if (answeredLoad2xx) latencies.push(responseTimeMs);
      answeredLoad2xx = false;
    });
    if (!options.amount) {
      setTimeout(() => {
        stopping = true;
        settle();
      }, (options.duration ?? 10) * 1000).unref();
    }
  });
  const durationS = (lastAnswerAt - started) / 1000;
  return {
    requests: n,
    ok,
    non2xx: answered - ok,
    unanswered: n - answered,
    errors: result.errors,
    durationS,
    p50Ms: quantile(latencies, 0.5),
    p99Ms: quantile(latencies, 0.99),
    requestsPerSec: ok / durationS,
    acceptedEvents,
  };
}
