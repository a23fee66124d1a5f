import { lineProtocolBody } from './line-protocol-body.ts';
import { BATCH_EVENTS, DEVICES } from './measure-batch-ingest.ts';
import { batchesPerDrain, eventsPerDrain, readDrainCounts } from './drain-counts.ts';
import { runLoad } from './post-load.ts';
import { sampleBacklog, type Backlog } from './sample-backlog.ts';
import type { BenchStack } from './start-bench-stack.ts';
import { waitUntilDrained } from './wait-until-projected.ts';

export interface LineProtocolIngest {
  acceptedPointsPerSec: number;
  /** Accepted and visible in history: points of 204'd bodies over the time until staging drained. */
  endToEndPointsPerSec: number;
  acknowledged: number;
  requestP99Ms: number;
  refused: number;
  /** Requests never answered: their points may or may not be stored. */
  unanswered: number;
  drainMs: number;
  /** The projector's batches and events per drain over the phase (load and drain). */
  batchesPerDrain: number;
  eventsPerDrain: number;
  backlog: Backlog;
  window: { fromMs: number; toMs: number };
}

/**
 * The batch phase's workload through `POST /api/v2/write` as Telegraf sends it: bodies of 500
 * gzipped points over 10k devices, 8 connections, as fast as 204s come, for `durationS`; end to end
 * counts until the last acknowledged point is in history.
 */
export async function measureLineProtocolIngest(stack: BenchStack, durationS: number, run: number): Promise<LineProtocolIngest> {
  const options = { phase: `lp${run}`, devices: DEVICES, devicePrefix: 'l-' };
  const fromMs = Date.now();
  const drainsBefore = await readDrainCounts(stack);
  const sampler = sampleBacklog(stack.db, stack.redis, stack.queueKey);
  const started = performance.now();
  const load = await runLoad({
    url: `${stack.urls['command-api']}/api/v2/write?org=bench&bucket=bench`,
    apiKey: stack.apiKey,
    headers: {
      authorization: `Token ${stack.apiKey}`,
      'content-type': 'text/plain; charset=utf-8',
      'content-encoding': 'gzip',
      'user-agent': 'Telegraf (strata bench)',
    },
    connections: 8,
    duration: durationS,
    next: (n) => ({ body: lineProtocolBody(options, n, BATCH_EVENTS), events: BATCH_EVENTS }),
  });
  const loadEnded = performance.now();
  const toMs = Date.now();
  const drainedAt = await waitUntilDrained(stack.db, 600_000);
  const backlog = await sampler.stop();
  const drainsAfter = await readDrainCounts(stack);
  return {
    acceptedPointsPerSec: load.acceptedEvents / ((loadEnded - started) / 1000),
    endToEndPointsPerSec: load.acceptedEvents / ((drainedAt - started) / 1000),
    acknowledged: load.acceptedEvents,
    requestP99Ms: load.p99Ms,
    refused: load.non2xx + load.errors,
    unanswered: load.unanswered,
    drainMs: drainedAt - loadEnded,
    batchesPerDrain: batchesPerDrain(drainsBefore, drainsAfter),
    eventsPerDrain: eventsPerDrain(drainsBefore, drainsAfter),
    backlog,
    window: { fromMs, toMs },
  };
}
