import { AppError } from '@strata/core';

/**
 * SQLSTATE class 22 (data exception: a value the statement was given cannot be cast, overflows, holds
 * U+0000 …) is caused by what the client sent, never by the server it was sent to. The params layer
 * refuses such values first; this is the defence behind it, so that a value it missed is still a 400
 * and never a 500, and never counts as a failure of the replica that refused it.
 */
export function isDataException(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^22[0-9A-Z]{3}$/.test(code);
}

/** Errors that say nothing about the health of the source that raised them: the client's own mistakes. */
export function isClientError(error: unknown): boolean {
  return isDataException(error) || (error instanceof AppError && error.status < 500);
}

/** A data exception as the 400 the client gets; the SQLSTATE is kept so operators can tell which. */
export function dataExceptionToBadRequest(error: unknown): AppError {
  const code = (error as { code: string }).code;
  return new AppError(400, 'invalid_request', 'a parameter holds a value the database cannot use', {
    details: [{ field: 'query', reason: `was refused by the database (SQLSTATE ${code}); check the parameters' types and ranges` }],
    cause: error,
  });
}
