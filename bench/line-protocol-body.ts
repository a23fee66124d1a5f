import { gzipSync } from 'node:zlib';
import type { BodyOptions } from './event-bodies.ts';

/**
 * The n-th line-protocol body of a phase, as Telegraf's influxdb_v2 output sends one: `points` lines
 * of the phase's measurement (stored as the events' type) over the devices (the `host` tag, plus a tag of the kind Telegraf's plugins add, which Strata checks
 * as a label and does not store), the same three readings as an HTTP event, nanosecond timestamps
 * (Telegraf's default precision), gzip at zlib's default level as Telegraf compresses.
 *
 * Line protocol has no event id: Strata keys such an event by a digest of its content, so two lines
 * of one device in one millisecond with the same values would be one event. The `seq` field, a counter
 * unique across every connection of the load, makes every point its own event (as an HTTP event's id
 * does) and lets the bench check that no point is stored twice.
 */
export function lineProtocolBody(options: BodyOptions, n: number, points: number): Buffer {
  const timestamp = `${Date.now()}000000`;
  const lines: string[] = [];
  for (let i = n * points; i < (n + 1) * points; i++) {
    const tags = `host=${options.devicePrefix}${i % options.devices},site=site-${i % 16}`;
    lines.push(`${options.phase},${tags} temp=${(i % 400) / 10},hr=${60 + (i % 90)}i,status="${i % 10 === 0 ? 'warn' : 'ok'}",seq=${i}i ${timestamp}`);
  }
  return gzipSync(`${lines.join('\n')}\n`);
}
