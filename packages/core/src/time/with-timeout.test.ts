import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { TimeoutError, withTimeout } from './with-timeout.ts';

t.test('the work wins: its value, or its own rejection', async (t) => {
  t.equal(await withTimeout(Promise.resolve(7), 1000), 7);
  await t.rejects(withTimeout(Promise.reject(new Error('refused')), 1000), { message: 'refused' });
});

t.test('the deadline wins: a TimeoutError naming the bound', async (t) => {
  const error = await withTimeout(sleep(500), 20).catch((caught: unknown) => caught);
  t.ok(error instanceof TimeoutError);
  t.equal((error as Error).message, 'no answer within 20 ms');
});

t.test('a late rejection of abandoned work is not unhandled', async (t) => {
  const late = sleep(30).then(() => {
    throw new Error('too late');
  });
  await t.rejects(withTimeout(late, 5), TimeoutError);
  await sleep(50);
  t.pass('no unhandled rejection ended the test');
});
