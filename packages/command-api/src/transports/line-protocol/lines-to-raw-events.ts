import { setOwnKey, type FieldError } from '@strata/core';
import { findLabelProblem } from './find-label-problem.ts';
import { isBadLine, type LineEntry, type LinePoint } from './parse-line-protocol.ts';
import type { Precision } from './read-precision.ts';
import { arrivalMs, timestampToMs } from './timestamp-to-ms.ts';

/** Below this a millisecond time is passed as text: core reads smaller numbers as Unix seconds. */
const SECONDS_THRESHOLD = 1e11;

export interface LineEventOptions {
  /** The tag that names the device (`device`, or the request's `deviceTag=`); `host` when a line lacks it. */
  deviceTag: string;
  precision: Precision;
  /** When the request arrived (epoch ms): the time of lines without a timestamp. */
  nowMs: number;
  /** Lines holding bytes that are not UTF-8; undefined when the whole body is UTF-8. */
  invalidUtf8Lines?: ReadonlySet<number>;
}

export interface LineEvents {
  /** One raw event per entry, in body order; undefined where the entry is bad. */
  events: unknown[];
  /** What is wrong with the entries, by event index (acceptEvents' parseErrors). */
  errors: FieldError[];
  /** The line each event index came from, to name lines in the answer. */
  lines: number[];
}

/**
 * Line-protocol entries as the raw events every transport hands to acceptEvents: measurement →
 * `type`, the device tag → `device`, the other tags → `labels` (sampled at the point's time, decision
 * 0074), fields → `values`, timestamp → `ts`. No `id`: an event's key is then the digest of its
 * content, labels included (core eventKey), so a line sent twice is stored once while two points that
 * differ only in a tag are two events, as they are two series in InfluxDB.
 */
export function linesToRawEvents(entries: LineEntry[], options: LineEventOptions): LineEvents {
  const events: unknown[] = [];
  const errors: FieldError[] = [];
  const lines: number[] = [];
  // One arrival time for the whole request, as InfluxDB does: lines without a timestamp sent in one
  // body are one instant, and the same untimed line twice in a body is one event.
  const arrival = arrivalMs(options.nowMs, options.precision);
  for (let index = 0; index < entries.length; index++) {
    const entry = entries[index] as LineEntry;
    lines.push(entry.line);
    const result = isBadLine(entry) ? { field: 'line', reason: entry.reason } : toRawEvent(entry, options, arrival);
    if ('event' in result) events.push(result.event);
    else {
      events.push(undefined);
      errors.push({ index, ...result });
    }
  }
  return { events, errors, lines };
}

function toRawEvent(point: LinePoint, options: LineEventOptions, arrival: number): { event: object } | { field: string; reason: string } {
  if (options.invalidUtf8Lines && spansInvalidUtf8(point, options.invalidUtf8Lines)) return { field: 'line', reason: 'is not valid UTF-8' };
  let deviceAt = point.tags.findIndex(([key]) => key === options.deviceTag);
  if (deviceAt === -1) deviceAt = point.tags.findIndex(([key]) => key === 'host');
  if (deviceAt === -1) {
    return { field: 'device tag', reason: `missing: a line names its device in the tag ${JSON.stringify(options.deviceTag)}, or else "host"` };
  }
  const device = (point.tags[deviceAt] as [string, string])[1];
  const tags = point.tags.filter((_, at) => at !== deviceAt);
  const labelProblem = findLabelProblem(tags);
  if (labelProblem) return labelProblem;
  let ms = arrival;
  if (point.timestamp !== undefined) {
    const converted = timestampToMs(point.timestamp, options.precision);
    if (typeof converted !== 'number') return { field: 'timestamp', reason: converted.reason };
    ms = converted;
  }
  const values: Record<string, unknown> = {};
  for (const [key, value] of point.fields) setOwnKey(values, key, value);
  const event: Record<string, unknown> = { device, ts: ms >= SECONDS_THRESHOLD ? ms : new Date(ms).toISOString(), type: point.measurement, values };
  if (tags.length > 0) {
    // The parser has already refused a tag key repeated on one line.
    const labels: Record<string, string> = {};
    for (const [key, value] of tags) setOwnKey(labels, key, value);
    event.labels = labels;
  }
  return { event };
}

function spansInvalidUtf8(point: LinePoint, invalid: ReadonlySet<number>): boolean {
  for (let line = point.line; line <= point.endLine; line++) if (invalid.has(line)) return true;
  return false;
}
