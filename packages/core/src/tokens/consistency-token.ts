/**
 * A consistency token names the batch a write joined. It is opaque to clients; the version prefix
 * lets the format change later while old tokens are still understood or clearly refused.
 */
const PREFIX = 'b1.';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function encodeToken(batchId: string): string {
  return PREFIX + batchId;
}

/** The batch id a token names, or undefined when the text is not a token we issued. */
export function decodeToken(token: string): string | undefined {
  if (!token.startsWith(PREFIX)) return undefined;
  const batchId = token.slice(PREFIX.length);
  return UUID.test(batchId) ? batchId : undefined;
}
