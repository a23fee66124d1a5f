/**
 * Where generated event times start: the start of yesterday (UTC), so data is recent (inside
 * retention, in premade partitions) and every run has the same shape.
 */
export const BENCH_DAY_MS = Math.floor(Date.now() / 86_400_000) * 86_400_000 - 86_400_000;

/** Where a phase's event times start: 2 h apart, each later than the last, within the bench day. */
export function phaseStart(run: number, phase: number): number {
  return BENCH_DAY_MS + ((run - 1) * 2 + phase) * 7_200_000;
}

export interface BodyOptions {
  bodies: number;
  eventsPerBody: number;
  devices: number;
  /** Distinguishes the bodies of one phase from another's, so no phase re-sends another's events. */
  phase: string;
  /** Event time of the first event; phases use later starts so each device's data stays in order. */
  startMs: number;
}

/**
 * Pre-built JSON request bodies, each event unique (its own id), spread over `devices` devices,
 * with event times increasing as real devices send them (one millisecond apart from `startMs`).
 * Built before the clock starts so that generating load costs the generator as little CPU as
 * possible while measuring.
 */
export function buildBatchBodies(options: BodyOptions): string[] {
  const bodies: string[] = [];
  let n = 0;
  for (let b = 0; b < options.bodies; b++) {
    const events: string[] = [];
    for (let i = 0; i < options.eventsPerBody; i++, n++) {
      const device = `d-${n % options.devices}`;
      const ts = options.startMs + n;
      events.push(
        `{"device":"${device}","id":"${options.phase}-${n}","ts":${ts},"values":{"temp":${(n % 400) / 10},"hr":${60 + (n % 90)},"status":"${n % 10 === 0 ? 'warn' : 'ok'}"}}`,
      );
    }
    bodies.push(`{"events":[${events.join(',')}]}`);
  }
  return bodies;
}
