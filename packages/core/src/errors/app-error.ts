/** A field-level problem in a request, reported back to the client as-is. */
export interface FieldError {
  /** Index of the event in the request, when the request carried several. */
  index?: number;
  field: string;
  reason: string;
}

/**
 * The one error class request handlers throw. `code` is stable (clients branch on it);
 * `status` is the HTTP status the shared error handler answers with.
 */
export class AppError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: FieldError[] | undefined;
  readonly headers: Record<string, string> | undefined;
  constructor(
    status: number,
    code: string,
    message: string,
    options: { details?: FieldError[]; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'AppError';
    this.status = status;
    this.code = code;
    this.details = options.details;
    this.headers = options.headers;
  }
}

export const badRequest = (message: string, details?: FieldError[]): AppError =>
  new AppError(400, 'invalid_request', message, { details });
export const unauthorized = (message = 'missing or invalid API key'): AppError =>
  new AppError(401, 'unauthorized', message, { headers: { 'www-authenticate': 'Bearer' } });
export const forbidden = (message: string): AppError => new AppError(403, 'forbidden', message);
export const notFound = (message: string): AppError => new AppError(404, 'not_found', message);
export const unavailable = (message: string, cause?: unknown): AppError =>
  new AppError(503, 'unavailable', message, { cause, headers: { 'retry-after': '1' } });
export const tooManyRequests = (message: string, retryAfterSeconds: number): AppError =>
  new AppError(429, 'rate_limited', message, { headers: { 'retry-after': String(retryAfterSeconds) } });
