import { READ_RATE } from './measure-reads.ts';
import { median } from './percentiles.ts';
import type { RunResult } from './run-once.ts';

interface Row {
  metric: string;
  value: number;
  unit: string;
  target?: { op: '>=' | '<='; value: number };
}

/** The medians across runs of every number the issue asks for, with its target where it has one. */
export function summarize(runs: RunResult[]): Row[] {
  const m = (pick: (run: RunResult) => number) => median(runs.map(pick));
  const ratio = m((r) => r.sustained.projectedEventsPerSec / r.raw.eventsPerSec);
  return [
    { metric: 'raw limit (COPY + flush SQL)', value: m((r) => r.raw.eventsPerSec), unit: 'events/s' },
    { metric: 'sustained ingest, accepted', value: m((r) => r.sustained.acceptedEventsPerSec), unit: 'events/s' },
    { metric: 'sustained ingest, accepted and projected', value: m((r) => r.sustained.projectedEventsPerSec), unit: 'events/s', target: { op: '>=', value: 50_000 } },
    { metric: 'sustained / raw limit', value: ratio, unit: '×', target: { op: '>=', value: 0.4 } },
    { metric: 'sustained: generator CPU', value: m((r) => r.cpu.sustained), unit: '% of a core' },
    { metric: 'single-event requests', value: m((r) => r.single.requestsPerSec), unit: 'req/s', target: { op: '>=', value: 10_000 } },
    { metric: 'single-event p50', value: m((r) => r.single.p50Ms), unit: 'ms' },
    { metric: 'single-event p99', value: m((r) => r.single.p99Ms), unit: 'ms', target: { op: '<=', value: 25 } },
    { metric: 'single-event: generator CPU', value: m((r) => r.cpu.single), unit: '% of a core' },
    { metric: 'freshness p50 (202 → eventual read)', value: m((r) => r.freshness.p50Ms), unit: 'ms' },
    { metric: 'freshness p99', value: m((r) => r.freshness.p99Ms), unit: 'ms', target: { op: '<=', value: 250 } },
    { metric: 'freshness background load', value: m((r) => r.freshness.backgroundEventsPerSec), unit: 'events/s' },
    { metric: 'reads: offered load each', value: READ_RATE, unit: 'req/s' },
    { metric: 'latest state from cache p50', value: m((r) => r.reads.cache.p50Ms), unit: 'ms' },
    { metric: 'latest state from cache p99', value: m((r) => r.reads.cache.p99Ms), unit: 'ms', target: { op: '<=', value: 3 } },
    { metric: 'latest state strong p50', value: m((r) => r.reads.strong.p50Ms), unit: 'ms' },
    { metric: 'latest state strong p99', value: m((r) => r.reads.strong.p99Ms), unit: 'ms', target: { op: '<=', value: 10 } },
    { metric: 'series 24 h @ 1m p50', value: m((r) => r.reads.series24h1m.p50Ms), unit: 'ms' },
    { metric: 'series 24 h @ 1m p99', value: m((r) => r.reads.series24h1m.p99Ms), unit: 'ms', target: { op: '<=', value: 50 } },
    { metric: 'series 30 d @ 1h p50', value: m((r) => r.reads.series30d1h.p50Ms), unit: 'ms' },
    { metric: 'series 30 d @ 1h p99', value: m((r) => r.reads.series30d1h.p99Ms), unit: 'ms', target: { op: '<=', value: 50 } },
    { metric: 'reads: generator CPU', value: m((r) => r.cpu.reads), unit: '% of a core' },
  ];
}

export function formatTable(rows: Row[], runs: number): string {
  const lines = [`${'metric'.padEnd(44)} ${'median of ' + runs}`.padEnd(66) + ' target', '-'.repeat(84)];
  for (const row of rows) {
    const value = row.value >= 100 ? Math.round(row.value).toLocaleString('en-US') : row.value.toFixed(2);
    const verdict = row.target
      ? `${row.target.op} ${row.target.value.toLocaleString('en-US')}  ${(row.target.op === '>=' ? row.value >= row.target.value : row.value <= row.target.value) ? 'met' : 'MISSED'}`
      : '';
    lines.push(`${row.metric.padEnd(44)} ${(value + ' ' + row.unit).padEnd(21)} ${verdict}`);
  }
  return lines.join('\n');
}
