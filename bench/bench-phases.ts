/** The phases of a run, in the order they run (docs/performance.md "What it measures"). */
export const BENCH_PHASES = ['ceiling', 'batch', 'bytes', 'lp', 'mqtt', 'fleet', 'single', 'neighbours', 'freshness', 'labels', 'reads', 'groups'] as const;

export type BenchPhase = (typeof BENCH_PHASES)[number];

/**
 * What a phase cannot be measured without. Bytes per event are the batch phase's; freshness and reads
 * (and label writes) run beside batches at a share of the batch phase's end-to-end rate; reads also read the batch
 * phase's devices. Line protocol and MQTT are judged by their ratio to the HTTP batch rate of the
 * same run, so a run of either measures that rate too.
 */
const NEEDS: Partial<Record<BenchPhase, BenchPhase[]>> = {
  bytes: ['batch'],
  lp: ['batch'],
  mqtt: ['batch'],
  freshness: ['batch'],
  labels: ['batch'],
  reads: ['batch'],
  groups: ['batch'],
};

/**
 * The phases `--only a,b` asks for, with what they need, in run order; every phase without `--only`.
 * Throws on a name that is not a phase.
 */
export function selectPhases(only: string | undefined): BenchPhase[] {
  if (only === undefined) return [...BENCH_PHASES];
  const asked = only.split(',').map((name) => name.trim()).filter((name) => name !== '');
  const unknown = asked.filter((name) => !(BENCH_PHASES as readonly string[]).includes(name));
  if (unknown.length > 0 || asked.length === 0) {
    throw new Error(`--only takes a comma-separated list of ${BENCH_PHASES.join(', ')}${unknown.length > 0 ? ` (not: ${unknown.join(', ')})` : ''}`);
  }
  const chosen = new Set<BenchPhase>();
  for (const name of asked as BenchPhase[]) {
    chosen.add(name);
    for (const needed of NEEDS[name] ?? []) chosen.add(needed);
  }
  return BENCH_PHASES.filter((phase) => chosen.has(phase));
}
