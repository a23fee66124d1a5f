import type { FastifyRequest } from 'fastify';
import { badRequest } from '@strata/core';

/**
 * Refuses, for every route at once, path and query parameters that no database column can hold:
 * U+0000 (PostgreSQL text refuses it, SQLSTATE 22021) and lone surrogates (ill-formed UTF-16, which
 * the driver would silently turn into U+FFFD and so match something else). Checked before schema
 * validation, so the answer names the parameter as the client spelled it. Runs as a preValidation
 * hook: whatever a route adds later is covered without thinking of it.
 */
export async function refuseIllFormedText(request: FastifyRequest): Promise<void> {
  for (const [where, record] of [
    ['path', request.params],
    ['query', request.query],
  ] as const) {
    if (typeof record !== 'object' || record === null) continue;
    for (const [name, value] of Object.entries(record as Record<string, unknown>)) {
      for (const text of Array.isArray(value) ? value : [value]) {
        if (typeof text !== 'string') continue;
        const reason = illFormedReason(text);
        if (reason) throw badRequest(`invalid ${where} parameter ${name}`, [{ field: name, reason }]);
      }
    }
  }
}

/** Why a string cannot be stored or compared as text, or undefined when it can. */
export function illFormedReason(text: string): string | undefined {
  if (text.includes('\u0000')) return 'must not contain U+0000';
  if (!text.isWellFormed()) return 'must be well-formed Unicode (no lone surrogates)';
  return undefined;
}
