import type { Pool } from '@strata/core';
import { backgroundBatchLoad } from './background-batch-load.ts';
import type { StoredCheck } from './check-stored-events.ts';
import { runPacedLoad, type PacedLoadResult } from './paced-load.ts';
import type { BenchStack } from './start-bench-stack.ts';

/** Label writes per second: an operator's provisioning tool relabelling a fleet, not a flood. */
export const LABEL_WRITE_RATE = 20;
/**
 * The background's devices: 10k of their own, each always in one of twenty racks, as a gateway tags
 * its readings. They join their groups in the first run and stay; later runs send them the same labels.
 */
const LABELLED_DEVICES = {
  devices: 10_000,
  devicePrefix: 'lb-',
  // Event i goes to device i % 10,000, whose rack is its number % 20, i.e. i % 20.
  labelsJson: (i: number) => `{"rack":"r${i % 20}"}`,
};
/** The label every write sets, so the check finds the phase's devices by an index, not by name. */
const LABEL = 'bench-labels';

export interface LabelWrites {
  /** `PUT /v1/devices/:device/labels`, one new device each, paced; p50/p99 from each request's due instant. */
  load: PacedLoadResult;
  /** Answered with anything but 2xx (503: the label lock's 2 s passed), unanswered or not sent. */
  refused: number;
  background: { eventsPerSec: number; acknowledged: number };
  window: { fromMs: number; toMs: number };
}

/** Run n's devices are `lw<n>-<i>`: none of them ever sends an event, so the phase adds no history. */
const devicePrefix = (run: number) => `lw${run}-`;
const labelValue = (run: number) => `run-${run}`;

/**
 * Label writes beside ingest (decisions 0113, 0114): a `PUT` of a new device's labels every 1/LABEL_WRITE_RATE s
 * while labelled batches arrive at `backgroundEventsPerSec` (LABELLED_DEVICES). With `fromMinute`, both start at the next minute of
 * the wall clock, so the load fills that whole minute and, when `durationS` reaches past its end, the
 * refresher's claim of it (seconds of device recomputation for a minute of batches, once it has
 * settled) runs while the PUTs go on: until decision 0113 that claim held the tenant's label lock
 * throughout, and every PUT meanwhile waited 2 s and was refused with 503; the label steps (fold,
 * group minutes, heads) still hold it while they run. Reported: latency and
 * refusals. Checked afterwards (checkLabelWrites): every acknowledged PUT's labels are the device's
 * current labels, and no refused PUT left any.
 */
export async function measureLabelWrites(stack: BenchStack, durationS: number, backgroundEventsPerSec: number, run: number, fromMinute: boolean): Promise<LabelWrites> {
  if (fromMinute) await new Promise((resolve) => setTimeout(resolve, 60_000 - (Date.now() % 60_000) + 50));
  const fromMs = Date.now();
  // Labelled events, over 10k devices of their own (the other phases' devices stay unlabelled): the
  // refresher folds their labels and keeps twenty groups' minutes and heads, its label steps.
  const background = backgroundBatchLoad(stack, backgroundEventsPerSec, durationS + 2, `labels${run}`, LABELLED_DEVICES);
  const load = await runPacedLoad({
    origin: stack.urls['command-api'],
    path: '/v1/devices/-/labels',
    method: 'PUT',
    apiKey: stack.apiKey,
    connections: 4,
    rate: LABEL_WRITE_RATE,
    durationS,
    // A PUT waits at most 2 s for the lock: 4 connections × 16 cover 3 s of them at this rate.
    maxOutstanding: 64,
    next: (i) => ({ path: `/v1/devices/${devicePrefix(run)}${i}/labels`, body: JSON.stringify({ labels: { [LABEL]: labelValue(run), seq: String(i) } }) }),
  });
  const ingest = await background;
  return {
    load,
    refused: load.non2xx + load.errors + load.missed,
    background: { eventsPerSec: ingest.acceptedEvents / ingest.durationS, acknowledged: ingest.acceptedEvents },
    window: { fromMs, toMs: Date.now() },
  };
}

/**
 * Labels stored = labels acknowledged: the run's devices whose current labels are exactly what their
 * PUT set (both labels, its own `seq`) must number the PUTs answered 2xx, and a device with any current
 * label of the run that is not exactly that counts as a failure too (a refused PUT must store nothing,
 * an acknowledged one all of it).
 */
export async function checkLabelWrites(db: Pool, tenant: string, run: number, writes: LabelWrites): Promise<StoredCheck> {
  const result = await db.query<{ exact: string; other: string }>(
    `SELECT count(*) FILTER (WHERE labels = expected)::bigint AS exact, count(*) FILTER (WHERE labels <> expected)::bigint AS other
       FROM (SELECT jsonb_object_agg(label, value) FILTER (WHERE value IS NOT NULL) AS labels,
                    jsonb_build_object($3::text, $4::text, 'seq', substr(device, length($5::text) + 1)) AS expected
               FROM label_versions
              WHERE tenant_id = $1 AND device LIKE $2 AND valid_to = 'infinity'
              GROUP BY device) d`,
    [tenant, `${devicePrefix(run)}%`, LABEL, labelValue(run), devicePrefix(run)],
  );
  const exact = Number(result.rows[0]?.exact ?? 0);
  const other = Number(result.rows[0]?.other ?? 0);
  const acknowledged = writes.load.ok;
  const check: StoredCheck = { scenario: `run ${run}: label writes beside ingest`, acknowledged, stored: exact + other, ok: exact === acknowledged && other === 0 };
  if (!check.ok) process.stderr.write(`FAIL ${check.scenario}: ${acknowledged} PUTs acknowledged, ${exact} devices hold exactly their labels, ${other} hold other labels\n`);
  return check;
}
