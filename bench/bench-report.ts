import { READ_RATE } from './measure-reads.ts';
import { FLEET_RATE } from './measure-device-fleet.ts';
import { median } from './percentiles.ts';
import type { RunResult } from './run-once.ts';

export interface Row {
  metric: string;
  value: number;
  unit: string;
  target?: { op: '>=' | '<='; value: number };
}

/**
 * The medians across runs of every number the issue asks for, with its target where it has one.
 * Every ratio is Strata's number over the SQL ceiling measured in the same run.
 */
export function summarize(runs: RunResult[]): Row[] {
  const m = (pick: (run: RunResult) => number) => median(runs.map(pick));
  return [
    { metric: 'SQL ceiling (plain SQL, same server, same run)', value: m((r) => r.ceiling.rowsPerSec), unit: 'rows/s' },
    { metric: 'batches of 500, accepted', value: m((r) => r.batch.acceptedEventsPerSec), unit: 'events/s' },
    { metric: 'batches of 500, end to end (in history)', value: m((r) => r.batch.endToEndEventsPerSec), unit: 'events/s', target: { op: '>=', value: 50_000 } },
    { metric: 'batches end to end / SQL ceiling', value: m((r) => r.batch.endToEndEventsPerSec / r.ceiling.rowsPerSec), unit: '×', target: { op: '>=', value: 0.4 } },
    { metric: 'batches: backlog slope while loading', value: m((r) => r.batch.backlog.slopeEventsPerSec), unit: 'events/s' },
    { metric: 'batches: drain after the load', value: m((r) => r.batch.drainMs), unit: 'ms' },
    { metric: 'bytes per event, all-in (batch workload)', value: m((r) => r.bytes.allIn), unit: 'B', target: { op: '<=', value: 250 } },
    { metric: 'bytes: ended minutes not yet materialized', value: m((r) => r.batchAggregated.notedMinutes), unit: 'minutes' },
    { metric: `fleet: offered`, value: FLEET_RATE, unit: 'req/s' },
    { metric: 'fleet: achieved', value: m((r) => r.fleet.achievedPerSec), unit: 'req/s', target: { op: '>=', value: FLEET_RATE * 0.99 } },
    { metric: 'fleet: achieved / SQL ceiling', value: m((r) => r.fleet.achievedPerSec / r.ceiling.rowsPerSec), unit: '×' },
    { metric: 'fleet: p50', value: m((r) => r.fleet.p50Ms), unit: 'ms' },
    { metric: 'fleet: p99', value: m((r) => r.fleet.p99Ms), unit: 'ms', target: { op: '<=', value: 25 } },
    { metric: 'fleet: backlog slope', value: m((r) => r.fleet.backlog.slopeEventsPerSec), unit: 'events/s', target: { op: '<=', value: FLEET_RATE * 0.01 } },
    { metric: 'fleet: freshness p99, latest state', value: m((r) => r.fleet.freshness.latestP99Ms), unit: 'ms', target: { op: '<=', value: 250 } },
    { metric: 'fleet: freshness p99, series', value: m((r) => r.fleet.freshness.seriesP99Ms), unit: 'ms', target: { op: '<=', value: 250 } },
    { metric: 'single events, 64 connections', value: m((r) => r.single.requestsPerSec), unit: 'req/s', target: { op: '>=', value: 12_000 } },
    { metric: 'single events / SQL ceiling', value: m((r) => r.single.requestsPerSec / r.ceiling.rowsPerSec), unit: '×' },
    { metric: 'single events p50', value: m((r) => r.single.p50Ms), unit: 'ms' },
    { metric: 'single events p99', value: m((r) => r.single.p99Ms), unit: 'ms', target: { op: '<=', value: 25 } },
    { metric: 'freshness: background load', value: m((r) => r.freshness.backgroundEventsPerSec), unit: 'events/s' },
    { metric: 'freshness p50, latest state', value: m((r) => r.freshness.latestP50Ms), unit: 'ms' },
    { metric: 'freshness p99, latest state', value: m((r) => r.freshness.latestP99Ms), unit: 'ms', target: { op: '<=', value: 250 } },
    { metric: 'freshness p99, series', value: m((r) => r.freshness.seriesP99Ms), unit: 'ms', target: { op: '<=', value: 250 } },
    { metric: `reads at ${READ_RATE} req/s each, beside ingest of`, value: m((r) => r.reads.background.eventsPerSec), unit: 'events/s' },
    { metric: 'reads: ended minutes not yet materialized', value: m((r) => r.aggregatedBeforeReads.notedMinutes), unit: 'minutes' },
    { metric: 'latest state, cache p50', value: m((r) => r.reads.cache.p50Ms), unit: 'ms' },
    { metric: 'latest state, cache p99', value: m((r) => r.reads.cache.p99Ms), unit: 'ms' },
    { metric: 'latest state, strong p50', value: m((r) => r.reads.strong.p50Ms), unit: 'ms' },
    { metric: 'latest state, strong p99', value: m((r) => r.reads.strong.p99Ms), unit: 'ms' },
    { metric: 'series 24 h @ 1m p50', value: m((r) => r.reads.series24h1m.p50Ms), unit: 'ms' },
    { metric: 'series 24 h @ 1m p99', value: m((r) => r.reads.series24h1m.p99Ms), unit: 'ms', target: { op: '<=', value: 20 } },
    { metric: 'series 30 d @ 1h p50', value: m((r) => r.reads.series30d1h.p50Ms), unit: 'ms' },
    { metric: 'series 30 d @ 1h p99', value: m((r) => r.reads.series30d1h.p99Ms), unit: 'ms', target: { op: '<=', value: 20 } },
    { metric: 'stats 24 h @ 1m p50', value: m((r) => r.reads.stats24h1m.p50Ms), unit: 'ms' },
    { metric: 'stats 24 h @ 1m p99', value: m((r) => r.reads.stats24h1m.p99Ms), unit: 'ms', target: { op: '<=', value: 20 } },
    { metric: 'reads refused or failed', value: m((r) => sumRefused(r)), unit: 'requests', target: { op: '<=', value: 0 } },
    { metric: 'generator CPU: batches', value: m((r) => r.cpu.batch), unit: '% of a core' },
    { metric: 'generator CPU: fleet', value: m((r) => r.cpu.fleet), unit: '% of a core' },
    { metric: 'generator CPU: single events', value: m((r) => r.cpu.single), unit: '% of a core' },
    { metric: 'generator CPU: reads', value: m((r) => r.cpu.reads), unit: '% of a core' },
  ];
}

function sumRefused(run: RunResult): number {
  const { cache, strong, series24h1m, series30d1h, stats24h1m } = run.reads;
  return [cache, strong, series24h1m, series30d1h, stats24h1m].reduce((sum, load) => sum + load.non2xx + load.errors, 0);
}

export function formatTable(rows: Row[], runs: number): string {
  const lines = [`${'metric'.padEnd(50)} ${'median of ' + runs}`.padEnd(72) + ' target', '-'.repeat(92)];
  for (const row of rows) {
    const value = Math.abs(row.value) >= 100 ? Math.round(row.value).toLocaleString('en-US') : row.value.toFixed(2);
    const verdict = row.target
      ? `${row.target.op} ${row.target.value.toLocaleString('en-US')}  ${(row.target.op === '>=' ? row.value >= row.target.value : row.value <= row.target.value) ? 'met' : 'MISSED'}`
      : '';
    lines.push(`${row.metric.padEnd(50)} ${(value + ' ' + row.unit).padEnd(21)} ${verdict}`);
  }
  return lines.join('\n');
}
