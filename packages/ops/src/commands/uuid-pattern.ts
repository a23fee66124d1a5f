/** A tenant or key id as PostgreSQL prints a uuid; checked before a query so junk is a clear error, not a cast failure. */
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
