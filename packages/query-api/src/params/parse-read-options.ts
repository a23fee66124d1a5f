import type { IncomingHttpHeaders } from 'node:http';
import { badRequest, decodeToken } from '@strata/core';
import { CONSISTENCY_LEVELS, type Consistency } from '../model/consistency.ts';
import type { ReadOptions } from '../model/read-options.ts';

/** The read-option query parameters every read route accepts. */
export interface ReadOptionQuery {
  consistency?: string | undefined;
  after?: string | undefined;
  maxStalenessMs?: string | number | undefined;
}

const MAX_STALENESS_LIMIT_MS = 86_400_000;

/**
 * Consistency, token and staleness bound from the query string or, failing that, the headers
 * (`X-Consistency`, `X-Consistency-Token`). A query parameter wins over a header, so a link can
 * override what a client library sets by default. Anything unrecognised is a 400 naming the field.
 */
export function parseReadOptions(query: ReadOptionQuery, headers: IncomingHttpHeaders, defaultMaxStalenessMs: number): ReadOptions {
  const consistencyField = query.consistency !== undefined ? 'consistency' : 'X-Consistency';
  const consistencyText = query.consistency ?? header(headers, 'x-consistency') ?? 'eventual';
  if (!(CONSISTENCY_LEVELS as readonly string[]).includes(consistencyText)) {
    throw badRequest('unknown consistency level', [
      { field: consistencyField, reason: `must be one of ${CONSISTENCY_LEVELS.join(', ')}` },
    ]);
  }

  const tokenField = query.after !== undefined ? 'after' : 'X-Consistency-Token';
  const token = query.after ?? header(headers, 'x-consistency-token');
  let afterBatchId: string | undefined;
  if (token !== undefined) {
    afterBatchId = decodeToken(token);
    if (afterBatchId === undefined) {
      throw badRequest('invalid consistency token', [{ field: tokenField, reason: 'is not a token issued by this service' }]);
    }
  }

  let maxStalenessMs = defaultMaxStalenessMs;
  if (query.maxStalenessMs !== undefined) {
    const text = String(query.maxStalenessMs);
    maxStalenessMs = Number(text);
    if (!/^\d+$/.test(text) || maxStalenessMs > MAX_STALENESS_LIMIT_MS) {
      throw badRequest('invalid staleness bound', [
        { field: 'maxStalenessMs', reason: `must be an integer from 0 to ${MAX_STALENESS_LIMIT_MS}` },
      ]);
    }
  }
  return { consistency: consistencyText as Consistency, afterBatchId, maxStalenessMs };
}

/** A repeated header is ambiguous; the first occurrence is the one taken. */
function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}
