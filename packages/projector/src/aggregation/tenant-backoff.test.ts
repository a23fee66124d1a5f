import t from 'tap';
import { TenantBackoff } from './tenant-backoff.ts';

t.test('a failing tenant waits longer after each failure, up to the bound; a success forgets it', async (t) => {
  const backoff = new TenantBackoff({ initialMs: 1000, maxMs: 4000 });
  t.equal(backoff.waiting('a', 0), false, 'nobody waits at first');
  t.equal(backoff.failed('a', 0), 1000);
  t.equal(backoff.waiting('a', 999), true);
  t.equal(backoff.waiting('a', 1000), false);
  t.equal(backoff.waiting('b', 500), false, 'other tenants are not held');
  t.equal(backoff.failed('a', 1000), 2000);
  t.equal(backoff.failed('a', 3000), 4000);
  t.equal(backoff.failed('a', 7000), 4000, 'bounded');
  backoff.succeeded('a');
  t.equal(backoff.waiting('a', 7001), false);
  t.equal(backoff.failed('a', 8000), 1000, 'starts over after a success');
});
