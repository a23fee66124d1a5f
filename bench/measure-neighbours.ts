import { createTenant } from '@strata/testkit';
import { singleBody } from './event-bodies.ts';
import { runPacedLoad, type PacedLoadResult } from './paced-load.ts';
import { runLoad } from './post-load.ts';
import type { BenchStack } from './start-bench-stack.ts';

/** The quiet tenant's offered rate: a few hundred devices reporting, one event a request. */
export const QUIET_RATE = 200;
/** The busy tenant's bodies: one event of 16 strings of 64,000 characters, ~1 MiB of JSON each. */
const BUSY_VALUES = 16;
const BUSY_VALUE_CHARS = 64_000;
const BUSY_CONNECTIONS = 4;

export interface QuietLoad {
  p50Ms: number;
  p99Ms: number;
  achievedPerSec: number;
  refused: number;
  acknowledged: number;
  window: { fromMs: number; toMs: number };
}

export interface Neighbours {
  /** The quiet tenant alone. */
  alone: QuietLoad;
  /** The same load while the busy tenant sends its large bodies. */
  beside: QuietLoad;
  busy: { bodiesPerSec: number; mibPerSec: number; refused: number; acknowledged: number; p99Ms: number; window: { fromMs: number; toMs: number } };
  /** The two tenants' ids, for the stored = acknowledged checks. */
  tenants: { quiet: string; busy: string };
}

/**
 * What one tenant's large bodies do to a neighbour's small requests (decisions 0120, 0122): a quiet
 * tenant sends QUIET_RATE single events a second, paced, first alone, then while a busy tenant posts
 * ~1 MiB bodies on BUSY_CONNECTIONS connections as fast as they are answered. Both are new tenants of
 * their own, so each one's stored events can be checked against what it was acknowledged.
 */
export async function measureNeighbours(stack: BenchStack, durationS: number, run: number): Promise<Neighbours> {
  const quiet = await createTenant(stack.db, `quiet ${run}`);
  const busy = await createTenant(stack.db, `busy ${run}`);
  const quietLoad = async (phase: string): Promise<QuietLoad> => {
    const fromMs = Date.now();
    const options = { phase, devices: 500, devicePrefix: 'q-' };
    const load = await runPacedLoad({
      origin: stack.urls['command-api'],
      path: '/v1/events',
      apiKey: quiet.apiKey,
      connections: 16,
      rate: QUIET_RATE,
      durationS,
      maxOutstanding: 64,
      next: (n) => ({ body: singleBody(options, n) }),
    });
    return quietResult(load, fromMs);
  };
  const alone = await quietLoad(`quiet-alone${run}`);
  // The checks count a phase's events by their times, ends included: the next load's first event must
  // not share the millisecond that ended this one (2026-12-04: 3,001 counted of 3,000, none stored twice).
  while (Date.now() <= alone.window.toMs) await new Promise((resolve) => setTimeout(resolve, 1));
  const busyFromMs = Date.now();
  const [beside, busyLoad] = await Promise.all([
    quietLoad(`quiet-beside${run}`),
    runLoad({
      url: `${stack.urls['command-api']}/v1/events`,
      apiKey: busy.apiKey,
      connections: BUSY_CONNECTIONS,
      duration: durationS,
      next: (n) => ({ body: largeBody(run, n) }),
    }),
  ]);
  const bodyBytes = largeBody(run, 0).length;
  return {
    alone,
    beside,
    busy: {
      bodiesPerSec: busyLoad.requestsPerSec,
      mibPerSec: (busyLoad.requestsPerSec * bodyBytes) / 1024 / 1024,
      refused: busyLoad.non2xx + busyLoad.errors,
      acknowledged: busyLoad.acceptedEvents,
      p99Ms: busyLoad.p99Ms,
      window: { fromMs: busyFromMs, toMs: Date.now() },
    },
    tenants: { quiet: quiet.tenant, busy: busy.tenant },
  };
}

function quietResult(load: PacedLoadResult, fromMs: number): QuietLoad {
  return {
    p50Ms: load.p50Ms,
    p99Ms: load.p99Ms,
    achievedPerSec: load.requestsPerSec,
    refused: load.non2xx + load.errors + load.missed,
    acknowledged: load.acceptedEvents,
    window: { fromMs, toMs: Date.now() },
  };
}

/** The n-th busy body: a unique id, stamped now, its strings of one repeated digit (as a blob of a device's log would be). */
function largeBody(run: number, n: number): string {
  const values = Object.fromEntries(Array.from({ length: BUSY_VALUES }, (_, i) => [`s${i}`, String((n + i) % 10).repeat(BUSY_VALUE_CHARS)]));
  return JSON.stringify({ device: `busy-${n % 10}`, id: `busy${run}-${n}`, ts: Date.now(), values });
}
