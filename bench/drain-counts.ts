import type { BenchStack } from './start-bench-stack.ts';

export interface DrainCounts {
  /** Drains (projection transactions) since the projector started. */
  drains: number;
  /** Batches those drains carried. */
  batches: number;
  /** Events those batches carried (the projector's `strata_flush_batch_events` histogram). */
  events: number;
}

/** command-api's group commits since it started (its `strata_ingest_batch_*` histograms). */
export interface GroupCommits {
  /** Batches written (one staging insert and one queue job each). */
  writes: number;
  /** Requests those batches carried. */
  requests: number;
  /** Seconds spent writing them (staging insert, then the job), successful writes only. */
  writeSeconds: number;
  /** Successful writes (the count of writeSeconds). */
  writesOk: number;
}

/**
 * The projector's `strata_drain_batches` histogram, read from its metrics endpoint: its count is the
 * drains, its sum the batches they carried. Two readings around a phase give the phase's batches per
 * drain, what the drains' linger (decision 0096) is for.
 */
export async function readDrainCounts(stack: BenchStack): Promise<DrainCounts> {
  const text = await readMetrics(stack.urls.projector);
  return {
    drains: sample(text, 'strata_drain_batches_count'),
    batches: sample(text, 'strata_drain_batches_sum'),
    events: sample(text, 'strata_flush_batch_events_sum'),
  };
}

/**
 * command-api's group-commit histograms: two readings around a phase give its requests per batch and
 * its mean batch write, what a one-event request's latency is made of besides the wait for company.
 */
export async function readGroupCommits(stack: BenchStack): Promise<GroupCommits> {
  const text = await readMetrics(stack.urls['command-api']);
  return {
    writes: sample(text, 'strata_ingest_batch_requests_count'),
    requests: sample(text, 'strata_ingest_batch_requests_sum'),
    writeSeconds: sample(text, 'strata_ingest_batch_write_duration_seconds_sum', 'outcome="ok"'),
    writesOk: sample(text, 'strata_ingest_batch_write_duration_seconds_count', 'outcome="ok"'),
  };
}

/** Batches per drain between two readings (NaN when no drain ran). */
export function batchesPerDrain(before: DrainCounts, after: DrainCounts): number {
  const drains = after.drains - before.drains;
  return drains > 0 ? (after.batches - before.batches) / drains : Number.NaN;
}

/**
 * Events per drain between two readings (NaN when no drain ran): a phase's drains are its statements'
 * size, which their fixed costs (the round trip, the commit, the result) are spread over.
 */
export function eventsPerDrain(before: DrainCounts, after: DrainCounts): number {
  const drains = after.drains - before.drains;
  return drains > 0 ? (after.events - before.events) / drains : Number.NaN;
}

/** Requests per group commit and the mean write in ms between two readings (NaN when none ran). */
export function groupCommitsBetween(before: GroupCommits, after: GroupCommits): { requestsPerBatch: number; meanWriteMs: number } {
  const writes = after.writes - before.writes;
  const ok = after.writesOk - before.writesOk;
  return {
    requestsPerBatch: writes > 0 ? (after.requests - before.requests) / writes : Number.NaN,
    meanWriteMs: ok > 0 ? ((after.writeSeconds - before.writeSeconds) / ok) * 1000 : Number.NaN,
  };
}

async function readMetrics(serviceUrl: string): Promise<string> {
  return (await fetch(`${serviceUrl}/metrics`)).text();
}

/**
 * One sample of a Prometheus text exposition. The registry labels every sample with its service
 * (`name{service="projector"} value`); `label` picks the sample whose labels include it. A declared
 * histogram not yet observed has no `_sum`/`_count` lines for a label set: that reads as 0; a metric
 * that is not declared at all (renamed, say) throws.
 */
function sample(text: string, name: string, label?: string): number {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const match = /^(\S+?)(\{[^}]*\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    if (label !== undefined && !(match[2] ?? '').includes(label)) continue;
    return Number(match[3]);
  }
  // A labelled histogram is declared (`# TYPE base histogram`) before its first observation.
  const base = name.replace(/_(sum|count|bucket)$/, '');
  if (label !== undefined && text.includes(`# TYPE ${base} `)) return 0;
  throw new Error(`the metrics have no ${name}${label ? ` {${label}}` : ''}`);
}
