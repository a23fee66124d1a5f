import { issueApiKey, type Queryable } from '@strata/core';

const SQL = 'INSERT INTO tenants (name) VALUES ($1) RETURNING id';

/** Creates a tenant with its first API key (scope all); the key is returned once and only its hash is kept. */
export async function createTenant(db: Queryable, name: string): Promise<{ tenant: string; apiKey: string; keyId: string }> {
  const result = await db.query<{ id: string }>(SQL, [name]);
  const tenant = (result.rows[0] as { id: string }).id;
  // The tenant row was just inserted, so issuing its key cannot miss it.
  const issued = (await issueApiKey(db, tenant, { scope: 'all' })) as { apiKey: string; keyId: string };
  return { tenant, apiKey: issued.apiKey, keyId: issued.keyId };
}
