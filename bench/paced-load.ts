import { Pool } from 'undici';
import { quantile } from './percentiles.ts';
import { ACCEPTED, type LoadResult } from './post-load.ts';

export interface PacedLoadOptions {
  /** The service's origin, `http://host:port`. */
  origin: string;
  /** Where a request goes unless `next` names its own path. */
  path: string;
  apiKey: string;
  /** Keep-alive connections the requests share (a fleet's gateways, not one socket per device). */
  connections: number;
  /** Requests per second, each sent at its own instant: request i at start + i / rate. */
  rate: number;
  durationS: number;
  /** POST (default) sends `next`'s body to `path`; GET asks for `next`'s path; PUT sends `next`'s body to `next`'s path. */
  method?: 'GET' | 'POST' | 'PUT';
  /** The i-th request: its JSON body (POST) or its path (GET); i counts every scheduled request, sent or not. */
  next: (i: number) => { body?: string; path?: string };
  /**
   * Requests sent and not yet answered, at most: a request due while this many are outstanding is
   * not sent (counted in `missed`), so a service that stops answering cannot grow the generator's
   * queue without bound.
   */
  maxOutstanding: number;
}

/** As a closed load's result (post-load.ts), but p50/p99 run from each request's due instant, not its send. */
export interface PacedLoadResult extends Pick<LoadResult, 'ok' | 'non2xx' | 'p50Ms' | 'p99Ms' | 'requestsPerSec' | 'acceptedEvents'> {
  offered: number;
  /** Due while maxOutstanding requests were unanswered: never sent. */
  missed: number;
  /** Sent, and answered by no status (socket error): their events may or may not be stored. */
  errors: number;
  /** From the first scheduled instant until the last answer. */
  durationS: number;
}

/**
 * An open-loop load at a uniform rate, as a fleet of devices sends it: each device at its own phase
 * within the second, so requests arrive evenly rather than in bursts. autocannon's rate mode sends
 * each connection's quota for a second as fast as answers come at the start of that second, which
 * measures a burst of the whole fleet every second, not a fleet.
 *
 * A request's latency runs from the instant it was due, so time it spent waiting in the generator
 * for a free connection, or behind a late timer, counts: an overloaded service cannot hide behind
 * the generator slowing down (coordinated omission). The load ends when every sent request has its
 * answer, so every acknowledged event is counted.
 */
export async function runPacedLoad(options: PacedLoadOptions): Promise<PacedLoadResult> {
  const pool = new Pool(options.origin, { connections: options.connections, pipelining: 1, keepAliveTimeout: 60_000 });
  const method = options.method ?? 'POST';
  const headers: Record<string, string> = { authorization: `Bearer ${options.apiKey}`, ...(method === 'GET' ? {} : { 'content-type': 'application/json' }) };
  const total = Math.round(options.rate * options.durationS);
  const latencies: number[] = [];
  let due = 0;
  let missed = 0;
  let ok = 0;
  let non2xx = 0;
  let errors = 0;
  let acceptedEvents = 0;
  let lastAnswerAt = 0;
  const start = performance.now();

  const send = async (i: number, scheduledAt: number): Promise<void> => {
    try {
      const request = options.next(i);
      const answer = await pool.request({ path: request.path ?? options.path, method, headers, body: request.body ?? null });
      const text = await answer.body.text();
      lastAnswerAt = performance.now();
      if (answer.statusCode >= 200 && answer.statusCode < 300) {
        ok++;
        latencies.push(lastAnswerAt - scheduledAt);
        const match = ACCEPTED.exec(text);
        if (match) acceptedEvents += Number(match[1]);
      } else {
        non2xx++;
      }
    } catch {
      errors++;
      lastAnswerAt = performance.now();
    }
  };

  // The requests sent and not yet answered.
  const inFlight = new Set<Promise<void>>();
  await new Promise<void>((resolve) => {
    const tick = () => {
      const reached = Math.min(total, Math.floor(((performance.now() - start) * options.rate) / 1000) + 1);
      for (; due < reached; due++) {
        if (inFlight.size >= options.maxOutstanding) {
          missed++;
          continue;
        }
        const request = send(due, start + (due * 1000) / options.rate);
        inFlight.add(request);
        void request.finally(() => inFlight.delete(request));
      }
      if (due < total) setTimeout(tick, 1);
      else resolve();
    };
    tick();
  });
  await Promise.all(inFlight);
  await pool.close();
  const durationS = (Math.max(lastAnswerAt, start) - start) / 1000;
  return {
    offered: total,
    missed,
    ok,
    non2xx,
    errors,
    durationS,
    p50Ms: quantile(latencies, 0.5),
    p99Ms: quantile(latencies, 0.99),
    requestsPerSec: durationS > 0 ? ok / durationS : 0,
    acceptedEvents,
  };
}

/** A paced load's result in the shape of autocannon's loads: a request not sent counts as unanswered and failed. */
export function asLoadResult(load: PacedLoadResult): LoadResult {
  return {
    requests: load.offered,
    ok: load.ok,
    non2xx: load.non2xx,
    unanswered: load.errors + load.missed,
    errors: load.errors + load.missed,
    durationS: load.durationS,
    p50Ms: load.p50Ms,
    p99Ms: load.p99Ms,
    requestsPerSec: load.requestsPerSec,
    acceptedEvents: load.acceptedEvents,
  };
}
