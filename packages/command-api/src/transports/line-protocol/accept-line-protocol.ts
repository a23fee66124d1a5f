import { AppError, EVENT_LIMITS, badRequest, type FieldError, type KeyIdentity } from '@strata/core';
import { acceptEvents, type AcceptEventsDeps } from '../../ingest/accept-events.ts';
import { LINE_PROTOCOL_BYTES_PER_CHAR } from '../../ingest/held-bytes.ts';
import type { OwedBytes } from '../../ingest/ingest-rate-limiter.ts';
import { BadLinesError, type LineProblem } from './bad-lines-error.ts';
import { decodeLineProtocolText } from './decode-line-protocol-text.ts';
import { linesToRawEvents } from './lines-to-raw-events.ts';
import { parseLineProtocol, type LineParseLimits } from './parse-line-protocol.ts';
import type { Precision } from './read-precision.ts';

const PARSE_LIMITS: LineParseLimits = {
  // As many points as a JSON request may carry events.
  maxEntries: EVENT_LIMITS.maxEventsPerRequest,
  // Bounds the work on one hostile line; more than 32 labels are refused anyway (find-label-problem).
  maxTags: 64,
  maxFields: EVENT_LIMITS.maxValues,
};
/** acceptEvents reports at most this many problems; a report that long may not be complete. */
const REPORTED_PROBLEMS = 1000;

export interface LineProtocolOptions {
  precision: Precision;
  deviceTag: string;
}

/**
 * A line-protocol body enters Strata by the same path as every transport (acceptEvents): all lines or
 * none. Refusals for lines are rethrown as a BadLinesError naming each line; every other refusal (rate,
 * key, storage) is acceptEvents' own.
 */
export async function acceptLineProtocol(deps: AcceptEventsDeps, auth: KeyIdentity, bytes: Buffer, options: LineProtocolOptions, owed?: OwedBytes): Promise<{ accepted: number; batchId: string }> {
  const { text, invalidUtf8Lines } = decodeLineProtocolText(bytes);
  const { entries, overLimit } = parseLineProtocol(text, PARSE_LIMITS);
  if (overLimit) {
    // 413, not 400: the lines may all be fine, and Telegraf answers a 413 by splitting the batch.
    throw new AppError(413, 'too_large', `at most ${PARSE_LIMITS.maxEntries} points per request; nothing was stored (send the rest in another request)`);
  }
  if (entries.length === 0) throw badRequest('the body holds no points', [{ field: 'body', reason: 'must hold at least one line of line protocol' }]);
  const { events, errors, lines } = linesToRawEvents(entries, { ...options, nowMs: deps.clock.now(), invalidUtf8Lines });
  try {
    return await acceptEvents(deps, auth, events, text.length * LINE_PROTOCOL_BYTES_PER_CHAR, errors, owed);
  } catch (error) {
    if (!(error instanceof AppError) || error.status !== 400 || !error.details) throw error;
    const problems = error.details.map((detail) => toLineProblem(detail, lines));
    throw new BadLinesError(problems, entries.length, error.details.length < REPORTED_PROBLEMS);
  }
}

function toLineProblem(detail: FieldError, lines: number[]): LineProblem {
  const line = lines[detail.index ?? 0] ?? 0;
  const field = lineField(detail.field);
  return field === undefined ? { line, reason: detail.reason } : { line, field, reason: detail.reason };
}

/** The parts of an event named as the parts of a line a line-protocol user wrote. */
function lineField(field: string): string | undefined {
  if (field === 'line') return undefined;
  if (field === 'device') return 'device tag';
  if (field === 'ts') return 'timestamp';
  if (field === 'type') return 'measurement';
  if (field === 'values') return 'fields';
  if (field.startsWith('values.')) return `field ${JSON.stringify(field.slice('values.'.length))}`;
  return field;
}
