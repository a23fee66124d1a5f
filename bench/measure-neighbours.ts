import { createTenant } from '@strata/testkit';
import { singleBody } from './event-bodies.ts';
import { runPacedLoad, type PacedLoadResult } from './paced-load.ts';
import { runPoliteLoad } from './polite-load.ts';
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

export interface BusyLoad {
  bodiesPerSec: number;
  mibPerSec: number;
  refused: number;
  acknowledged: number;
  p99Ms: number;
  window: { fromMs: number; toMs: number };
}

export interface Neighbours {
  /** The quiet tenant alone. */
  alone: QuietLoad;
  /** The same load while the busy tenant sends its large bodies, ignoring retry-after. */
  beside: QuietLoad;
  busy: BusyLoad;
  /** With a byte rate on: the same load beside a second busy tenant that honours retry-after. */
  besidePolite?: QuietLoad;
  politeBusy?: BusyLoad;
  /** The tenants' ids, for the stored = acknowledged checks. */
  tenants: { quiet: string; busy: string; politeBusy?: string };
}

/**
 * What one tenant's large bodies do to a neighbour's small requests (decisions 0120, 0122): a quiet
 * tenant sends QUIET_RATE single events a second, paced, first alone, then while a busy tenant posts
 * ~1 MiB bodies on BUSY_CONNECTIONS connections as fast as they are answered, 429s included (a client
 * ignoring retry-after). With `politeToo` (a byte rate is on), then a third window beside a busy
 * tenant that waits out each retry-after, as Telegraf and MQTT clients do. Every tenant is new and
 * its own, so each one's stored events can be checked against what it was acknowledged.
 */
export async function measureNeighbours(stack: BenchStack, durationS: number, run: number, politeToo = false): Promise<Neighbours> {
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
  // The checks count a phase's events by their times, ends included: the next load's first event must
  // not share the millisecond that ended this one (2026-12-04: 3,001 counted of 3,000, none stored twice).
  const after = async (toMs: number) => {
    while (Date.now() <= toMs) await new Promise((resolve) => setTimeout(resolve, 1));
  };
  const alone = await quietLoad(`quiet-alone${run}`);
  await after(alone.window.toMs);
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
  const result: Neighbours = {
    alone,
    beside,
    busy: busyResult(run, busyLoad.requestsPerSec, busyLoad.non2xx + busyLoad.errors, busyLoad.acceptedEvents, busyLoad.p99Ms, busyFromMs),
    tenants: { quiet: quiet.tenant, busy: busy.tenant },
  };
  if (!politeToo) return result;
  const polite = await createTenant(stack.db, `polite busy ${run}`);
  await after(Math.max(beside.window.toMs, result.busy.window.toMs));
  const politeFromMs = Date.now();
  const [besidePolite, politeLoad] = await Promise.all([
    quietLoad(`quiet-polite${run}`),
    runPoliteLoad({
      url: `${stack.urls['command-api']}/v1/events`,
      apiKey: polite.apiKey,
      connections: BUSY_CONNECTIONS,
      durationS,
      next: (n) => largeBody(run, n, 'polite'),
    }),
  ]);
  return {
    ...result,
    besidePolite,
    politeBusy: busyResult(run, politeLoad.okPerSec, politeLoad.refused + politeLoad.errors, politeLoad.acceptedEvents, politeLoad.p99Ms, politeFromMs),
    tenants: { ...result.tenants, politeBusy: polite.tenant },
  };
}

/** A busy load's result, its window ending now. */
function busyResult(run: number, bodiesPerSec: number, refused: number, acknowledged: number, p99Ms: number, fromMs: number): BusyLoad {
  const mibPerSec = (bodiesPerSec * largeBody(run, 0).length) / 1024 / 1024;
  return { bodiesPerSec, mibPerSec, refused, acknowledged, p99Ms, window: { fromMs, toMs: Date.now() } };
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
function largeBody(run: number, n: number, kind = 'busy'): string {
  const values = Object.fromEntries(Array.from({ length: BUSY_VALUES }, (_, i) => [`s${i}`, String((n + i) % 10).repeat(BUSY_VALUE_CHARS)]));
  return JSON.stringify({ device: `${kind}-${n % 10}`, id: `${kind}${run}-${n}`, ts: Date.now(), values });
}
