/**
 * A consistency token names the batch a write joined. It is opaque to clients; the version prefix
 * lets the format change later while old tokens are still understood or clearly refused.
 */
import { UUID_PATTERN } from '../schemas/uuid-pattern.ts';

const PREFIX = 'b1.';

export function encodeToken(batchId: string): string {
  return PREFIX + batchId;
}

/** The batch id a token names, or undefined when the text is not a token we issued. */
export function decodeToken(token: string): string | undefined {
  if (!token.startsWith(PREFIX)) return undefined;
  const batchId = token.slice(PREFIX.length);
  // Tokens carry the batch id as randomUUID prints it, lower case: any other spelling was not issued here.
  return UUID_PATTERN.test(batchId) && batchId === batchId.toLowerCase() ? batchId : undefined;
}
