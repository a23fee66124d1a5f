/**
 * Redis answered, with an error (a script that failed, WRONGTYPE, OOM): the command reached the server
 * and was refused. Unlike a connection error or a timeout, it may be caused by what the command carried.
 */
export function isReplyError(error: unknown): boolean {
  return error instanceof Error && error.name === 'ReplyError';
}
