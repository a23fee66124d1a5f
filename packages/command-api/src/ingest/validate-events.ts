import { normalizeEvent, type FieldError, type NormalizedEvent } from '@strata/core';

const DAY_MS = 86_400_000;

/**
 * The accepted time window at the time of the request: events before `nowMs - days` or after
 * `nowMs + maxFutureSkewMs` are refused.
 */
export interface RetentionWindow {
  nowMs: number;
  days: number;
  maxFutureSkewMs: number;
}

/**
 * Validates every event of a request and reports every problem (by index and field); the
 * request is accepted only when all are valid, so a bad batch never stores a part of itself.
 * An event older than the retention window is refused too: its day's history is dropped (or about
 * to be) by ops' retention job, so it would be counted in rollups and then vanish from history.
 */
export function validateEvents(
  raw: unknown[],
  earlierErrors: FieldError[],
  retention: RetentionWindow,
  maxErrors = Number.POSITIVE_INFINITY,
): { events: NormalizedEvent[]; errors: FieldError[]; complete: boolean } {
  // Errors are collected in index order (no sort), and collecting stops at `maxErrors`: a body of
  // 10,000 bad events costs no more than the report it gets.
  const earlier = new Map<number, FieldError[]>();
  for (const error of earlierErrors) {
    const index = error.index ?? 0;
    earlier.set(index, [...(earlier.get(index) ?? []), error]);
  }
  const errors: FieldError[] = [];
  const oldest = retention.nowMs - retention.days * DAY_MS;
  const newest = retention.nowMs + retention.maxFutureSkewMs;
  const events: NormalizedEvent[] = [];
  for (let index = 0; index < raw.length; index++) {
    if (errors.length >= maxErrors) return { events, errors: errors.slice(0, maxErrors), complete: false };
    const failed = earlier.get(index);
    if (failed) {
      errors.push(...failed);
      continue;
    }
    const result = normalizeEvent(raw[index], index);
    if ('errors' in result) errors.push(...result.errors);
    else if (result.event.ts < oldest) errors.push({ index, field: 'ts', reason: `older than the retention of ${retention.days} days` });
    else if (result.event.ts > newest) {
      errors.push({ index, field: 'ts', reason: `later than ${retention.maxFutureSkewMs} ms ahead of the server clock (MAX_FUTURE_SKEW_MS)` });
    }
    else events.push(result.event);
  }
  return { events, errors: errors.slice(0, maxErrors), complete: true };
}
