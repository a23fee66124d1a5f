/**
 * A uuid as PostgreSQL reads one in its canonical form (tenant, key, batch ids), either case. Checked
 * before a value reaches a `uuid` parameter, so junk is a clear refusal, not a cast failure (22P02)
 * that would fail the whole statement or mixed-tenant batch it travels in.
 */
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
