import t from 'tap';
import { randomUUID } from 'node:crypto';
import { AppError } from '@strata/core';
import { HeldBytes } from '../src/ingest/held-bytes.ts';

t.test('past the budget 503; past a tenant share 503 for that tenant only; a lone request of any size is taken', async (t) => {
  const held = new HeldBytes({ maxBytes: 1000, maxBytesPerTenant: 400 });
  const hostile = randomUUID();
  const neighbour = randomUUID();
  const refusal = (fn: () => unknown) => {
    try {
      fn();
    } catch (error) {
      return error;
    }
    return undefined;
  };

  const huge = held.take(hostile, 5000);
  t.equal(held.total, 5000, 'an empty budget takes a request larger than itself');
  t.match(refusal(() => held.take(neighbour, 1)), { status: 503, code: 'unavailable' }, 'then nothing more');
  huge();
  huge();
  t.equal(held.total, 0, 'given back once, however often release is called');

  const releases = [1, 2, 3, 4].map(() => held.take(hostile, 100));
  const over = refusal(() => held.take(hostile, 100)) as AppError;
  t.match(over, { status: 503, code: 'unavailable' }, 'the tenant holding its share of 400 is refused its fifth');
  t.equal(over.headers?.['retry-after'], '1');
  t.match(over.message, /this tenant's earlier requests/);
  releases.push(held.take(neighbour, 400), held.take(randomUUID(), 200));
  t.equal(held.total, 1000, "its neighbours' requests are taken");
  t.match(refusal(() => held.take(randomUUID(), 1)), { status: 503 }, 'a full budget refuses everyone');
  for (const release of releases) release();
  t.equal(held.total, 0);
  t.doesNotThrow(() => held.take(hostile, 400), 'the tenant is taken again once its requests are answered');
});

t.test('a size that is not a non-negative integer is a bug, refused before it can corrupt the count', async (t) => {
  const held = new HeldBytes({ maxBytes: 1000, maxBytesPerTenant: 400 });
  for (const bytes of [Number.NaN, -1, 1.5, undefined as unknown as number, Number.POSITIVE_INFINITY]) {
    t.throws(() => held.take(randomUUID(), bytes), TypeError, String(bytes));
  }
  t.equal(held.total, 0);
});
