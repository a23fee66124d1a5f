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

/**
 * SQLSTATE 57014 (query_canceled): here, the server's statement_timeout ended the read. What
 * takes too long is usually the request itself (a huge device state, a wide range), and the same
 * read would time out on the primary too.
 */
export function isStatementTimeout(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === '57014';
}

/** How long a client is told to wait before retrying a read the database gave up on. */
const STATEMENT_TIMEOUT_RETRY_AFTER_SECONDS = 5;

/** A statement timeout as the client's 503 `timeout`, not an `internal` 500: nothing is broken. */
export function statementTimeoutToUnavailable(error: unknown): AppError {
  return new AppError(503, 'timeout', 'the read took too long and was cancelled; narrow it (fewer values, a shorter range) or retry later', {
    cause: error,
    headers: { 'retry-after': String(STATEMENT_TIMEOUT_RETRY_AFTER_SECONDS) },
  });
}

/** The answer a database error becomes when it reaches the client: class 22 is 400, 57014 is 503. */
export function databaseErrorToAppError(error: unknown): unknown {
  if (isDataException(error)) return dataExceptionToBadRequest(error);
  if (isStatementTimeout(error)) return statementTimeoutToUnavailable(error);
  return error;
}

/** A data exception as the 400 the client gets; the SQLSTATE is kept so operators can tell which. */
export function dataExceptionToBadRequest(error: unknown): AppError {
  const code = (error as { code: string }).code;
  return new AppError(400, 'invalid_request', 'a parameter holds a value the database cannot use', {
    details: [{ field: 'query', reason: `was refused by the database (SQLSTATE ${code}); check the parameters' types and ranges` }],
    cause: error,
  });
}
