import { ACCEPTED } from './post-load.ts';
import { quantile } from './percentiles.ts';

export interface PoliteLoadOptions {
  url: string;
  apiKey: string;
  connections: number;
  durationS: number;
  /** The n-th body (n counts across every connection). */
  next: (n: number) => string;
}

export interface PoliteLoadResult {
  /** Requests answered 2xx, and their rate over the load. */
  ok: number;
  okPerSec: number;
  /** Requests answered 429, each followed by its retry-after's wait. */
  refused: number;
  /** Answers other than 2xx and 429, and requests that got no answer. */
  errors: number;
  acceptedEvents: number;
  p99Ms: number;
}

/** Longest wait a retry-after may impose on the load: past it the load would end waiting. */
const MAX_WAIT_S = 10;

/**
 * A client that honours retry-after, as Telegraf and MQTT clients do: each connection sends a body,
 * and after a 429 waits the seconds its retry-after names before sending the next. Closed loop
 * otherwise (the next body goes once the answer comes), so it sends as fast as the service lets it.
 * A request in flight when the duration ends is still answered and counted.
 */
export async function runPoliteLoad(options: PoliteLoadOptions): Promise<PoliteLoadResult> {
  const started = performance.now();
  const deadline = started + options.durationS * 1000;
  let n = 0;
  let ok = 0;
  let refused = 0;
  let errors = 0;
  let acceptedEvents = 0;
  const latencies: number[] = [];
  const worker = async (): Promise<void> => {
    while (performance.now() < deadline) {
      const body = options.next(n++);
      const sent = performance.now();
      let response: Response;
      try {
        response = await fetch(options.url, {
          method: 'POST',
          headers: { authorization: `Bearer ${options.apiKey}`, 'content-type': 'application/json' },
          body,
        });
      } catch {
        errors++;
        continue;
      }
      const text = await response.text().catch(() => '');
      if (response.status >= 200 && response.status < 300) {
        ok++;
        latencies.push(performance.now() - sent);
        acceptedEvents += Number(ACCEPTED.exec(text)?.[1] ?? 0);
      } else if (response.status === 429) {
        refused++;
        const waitS = Math.min(MAX_WAIT_S, Math.max(0, Number(response.headers.get('retry-after')) || 1));
        const left = deadline - performance.now();
        if (left > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(left, waitS * 1000)));
      } else {
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: options.connections }, () => worker()));
  const seconds = (performance.now() - started) / 1000;
  return { ok, okPerSec: ok / seconds, refused, errors, acceptedEvents, p99Ms: latencies.length > 0 ? quantile(latencies, 0.99) : 0 };
}
