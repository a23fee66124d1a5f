/**
 * When the bench started, to the minute. The series device's history ends here; every phase after
 * it sends events stamped with the wall clock, as devices do, so each phase's events lie in its own
 * window of event time and can be counted there.
 */
export const BENCH_START_MS = Math.floor(Date.now() / 60_000) * 60_000;
/** Days of history the series device holds before BENCH_START_MS (the stack gives them partitions). */
export const SERIES_DAYS = 30;

export interface BodyOptions {
  /** Distinguishes one phase's ids from every other's, so no phase re-sends another's events. */
  phase: string;
  devices: number;
  devicePrefix: string;
  /**
   * Labels every event carries, as JSON text, from the event's number (e.g. a rack of twenty): a fleet
   * whose gateway tags each reading, as line protocol's tags do. Absent: events name no labels.
   */
  labelsJson?: (i: number) => string;
}

/**
 * The n-th request body of a phase: `eventsPerBody` events, each with its own id (phase + a counter
 * that is unique across every connection of the load), spread over the devices, stamped now.
 * Built per request so that no body is ever sent twice: a repeated body would be deduplicated and
 * counted as throughput it is not.
 */
export function batchBody(options: BodyOptions, n: number, eventsPerBody: number): string {
  const now = Date.now();
  const events: string[] = [];
  for (let i = n * eventsPerBody; i < (n + 1) * eventsPerBody; i++) events.push(eventJson(options, i, now));
  return `{"events":[${events.join(',')}]}`;
}

/** One event as a single-event request body (the same shape as an element of a batch). */
export function singleBody(options: BodyOptions, n: number): string {
  return eventJson(options, n, Date.now());
}

/**
 * The n-th MQTT message of a phase: `eventsPerMessage` buffered readings of the topic's device, ids
 * unique across every connection as in a batch body, the newest stamped now and the others 1 ms apart
 * before it (readings of one device at one instant would tie in latest state). No `device`: the
 * topic names it, as firmware publishing to its own topic sends.
 */
export function telemetryPayload(phase: string, n: number, eventsPerMessage: number): string {
  const now = Date.now();
  const events: string[] = [];
  for (let j = 0; j < eventsPerMessage; j++) {
    const i = n * eventsPerMessage + j;
    events.push(`{"id":"${phase}-${i}","ts":${now - (eventsPerMessage - 1 - j)},"values":${valuesJson(i)}}`);
  }
  return `{"events":[${events.join(',')}]}`;
}

function eventJson(options: BodyOptions, i: number, ts: number): string {
  const labels = options.labelsJson ? `,"labels":${options.labelsJson(i)}` : '';
  return `{"device":"${options.devicePrefix}${i % options.devices}","id":"${options.phase}-${i}","ts":${ts},"values":${valuesJson(i)}${labels}}`;
}

/** The readings of the i-th event of a phase: the same three values in every phase and transport. */
function valuesJson(i: number): string {
  return `{"temp":${(i % 400) / 10},"hr":${60 + (i % 90)},"status":"${i % 10 === 0 ? 'warn' : 'ok'}"}`;
}
