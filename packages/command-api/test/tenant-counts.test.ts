import t from 'tap';
import { TenantCounts } from '../src/ingest/tenant-counts.ts';

t.test('a count per tenant that forgets a tenant at zero', async (t) => {
  const counts = new TenantCounts();
  t.equal(counts.get('a'), 0, 'an unknown tenant counts 0');
  t.equal(counts.add('a', 3), 3);
  t.equal(counts.add('b', 1), 1);
  t.equal(counts.add('a', -1), 2);
  t.ok(counts.has('a'));
  t.equal(counts.add('a', -2), 0, 'back to zero...');
  t.notOk(counts.has('a'), '...and forgotten');
  t.equal(counts.add('c', -1), -1, 'taking from nothing leaves nothing');
  t.notOk(counts.has('c'));
  t.equal(counts.get('b'), 1, 'other tenants untouched');
});
