/**
 * What a failed projection means for its batch:
 *  - `poison`: the batch itself can never succeed (bad data); retrying only delays the dead letter;
 *  - `unavailable`: the database is away (restart, crash recovery, network); the batch is fine and
 *    must wait for it without using up its attempts;
 *  - `transient`: a conflict worth retrying a few times (deadlock, serialization, timeout), then
 *    dead-lettered if it keeps happening.
 */
export type FailureKind = 'poison' | 'unavailable' | 'transient';

// SQLSTATE classes: 22 data exception (out-of-range time, bad number, invalid JSON...),
// 23 integrity constraint violation (e.g. a tenant that no longer exists).
const POISON_CLASSES = new Set(['22', '23']);
// 08 connection exception, 53 insufficient resources (too many connections, disk full),
// 57P01-57P03 admin/crash shutdown and "cannot connect now" during recovery.
const UNAVAILABLE_CLASSES = new Set(['08', '53']);
const UNAVAILABLE_CODES = new Set(['57P01', '57P02', '57P03']);
// Errors the driver raises itself when the server or the socket goes away.
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
const NETWORK_MESSAGES = /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|the database system is (starting up|shutting down|in recovery mode)/i;

export function classifyFailure(error: unknown): FailureKind {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  if (typeof code === 'string') {
    if (/^[0-9A-Z]{5}$/.test(code)) {
      const sqlClass = code.slice(0, 2);
      if (POISON_CLASSES.has(sqlClass)) return 'poison';
      if (UNAVAILABLE_CLASSES.has(sqlClass) || UNAVAILABLE_CODES.has(code)) return 'unavailable';
      return 'transient';
    }
    if (NETWORK_CODES.has(code)) return 'unavailable';
  }
  const message = error instanceof Error ? error.message : String(error);
  return NETWORK_MESSAGES.test(message) ? 'unavailable' : 'transient';
}

/** PostgreSQL's unique_violation (23505): classifyFailure calls it poison; a drain's plain history insert (decision 0127) expects it. */
export function isUniqueViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === '23505';
}
