/** One event the writers send; `id` makes it identifiable in history (event_key `i:<id>`). */
export interface FaultEvent {
  device: string;
  id: string;
  ts: number;
  values: Record<string, number | string>;
}

/** A seeded generator, so a failing run can be replayed with the same events. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/**
 * `count` events over `devices` devices, in shuffled order. Each has a distinct event time, so the
 * newest value per key is unambiguous; some carry only one of the keys, so per-key merging matters.
 */
export function makeEvents(count: number, devices: number, seed: number, base = Date.now() - 6 * 3_600_000): FaultEvent[] {
  const random = seededRandom(seed);
  const events: FaultEvent[] = [];
  for (let i = 0; i < count; i++) {
    const values: Record<string, number | string> = { v: Math.floor(random() * 1000) };
    if (random() < 0.5) values.label = `l${Math.floor(random() * 100)}`;
    events.push({ device: `dev-${i % devices}`, id: `e${i}`, ts: base + i * 37, values });
  }
  for (let i = events.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [events[i], events[j]] = [events[j] as FaultEvent, events[i] as FaultEvent];
  }
  return events;
}
