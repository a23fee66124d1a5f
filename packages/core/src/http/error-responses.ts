import { Type, type TSchema } from 'typebox';

/**
 * The one error body every JSON route answers with (errors/register-error-handler.ts and the
 * framework-error and not-found answers there): a stable `code` clients branch on, a message for
 * people, and for a 400 the problems one by one. It is also the response schema Fastify serialises
 * errors with, so every property the handler can send must be here: fast-json-stringify drops the
 * rest without a word.
 */
export const ErrorBody = Type.Object(
  {
    error: Type.Object({
      code: Type.String({ description: 'stable, for programs: invalid_request, invalid_events, invalid_json, unauthorized, forbidden, not_found, rate_limited, …' }),
      message: Type.String({ description: 'for people' }),
      details: Type.Optional(
        Type.Array(
          // fast-json-stringify writes required properties first, so `index` comes last in the answer.
          Type.Object({
            field: Type.String({ description: 'the parameter or field, e.g. `limit`, `params.device`, `values`' }),
            reason: Type.String(),
            index: Type.Optional(Type.Integer({ description: 'the event (0-based) in a request that carried several' })),
          }),
          { description: 'every problem of a 400, each naming its field' },
        ),
      ),
    }),
  },
  { description: 'an error' },
);

/** What each status means on every route; a route lists the statuses it can answer with. */
const MEANINGS: Record<number, string> = {
  400: 'invalid input: every problem is named in `details` (by field, and by index for events); nothing was stored',
  401: 'missing or invalid API key',
  403: 'the key lacks the scope (or is bound to another device)',
  404: 'no such device',
  413: 'body larger than MAX_BODY_BYTES',
  414: 'a path segment longer than any name the API accepts',
  415: 'unsupported Content-Type or Content-Encoding',
  429: "over the tenant's rate limit (Retry-After says when to try again)",
  500: 'internal error (details are in the log only)',
  503: 'a dependency is unavailable or the process is shutting down (Retry-After)',
};

/** `response` entries for the given error statuses, each the shared ErrorBody with its meaning. */
export function errorResponses(...statuses: number[]): Record<number, TSchema> {
  return Object.fromEntries(statuses.map((status) => [status, errorResponse(status)]));
}

/** One status's error response; `description` overrides the generic meaning. */
export function errorResponse(status: number, description?: string): TSchema {
  return { ...ErrorBody, description: description ?? MEANINGS[status] ?? 'error' };
}
