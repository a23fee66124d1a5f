import autocannon from 'autocannon';

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
  /** Builds the n-th request: its body for POST, its path for GET. */
  next: (n: number) => { body?: string; path?: string };
}

export interface LoadResult {
  requests: number;
  ok: number;
  non2xx: number;
  errors: number;
  durationS: number;
  p50Ms: number;
  p99Ms: number;
  requestsPerSec: number;
}

/** One autocannon run against a Strata endpoint with the tenant's key. */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  let n = 0;
  const result = await autocannon({
    url: options.url,
    method: options.method ?? 'POST',
    connections: options.connections,
    ...(options.amount ? { amount: options.amount } : { duration: options.duration ?? 10 }),
    ...(options.overallRate ? { overallRate: options.overallRate } : {}),
    headers: { authorization: `Bearer ${options.apiKey}`, 'content-type': 'application/json' },
    requests: [
      {
        setupRequest: (request) => {
          const built = options.next(n++);
          return { ...request, ...(built.body !== undefined ? { body: built.body } : {}), ...(built.path ? { path: built.path } : {}) };
        },
      },
    ],
  });
  return {
    requests: result.requests.total,
    ok: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors,
    durationS: result.duration,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    requestsPerSec: result['2xx'] / result.duration,
  };
}
