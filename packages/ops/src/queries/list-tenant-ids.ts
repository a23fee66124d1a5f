import type { Queryable } from '@strata/core';

const SQL = `SELECT id FROM tenants ORDER BY id`;

/** Every tenant's id, for jobs that work tenant by tenant. */
export async function listTenantIds(db: Queryable): Promise<string[]> {
  const result = await db.query<{ id: string }>({ name: 'list-tenant-ids', text: SQL });
  return result.rows.map((row) => row.id);
}
