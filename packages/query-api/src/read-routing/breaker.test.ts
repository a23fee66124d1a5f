import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { createLogger, systemClock } from '@strata/core';
import { Breaker } from './breaker.ts';

const logger = createLogger('test', 'silent');
const slow = (ms: number, value = 'done') => () => sleep(ms).then(() => value);

t.test('a call has one deadline: the breaker\'s own, or the one it asks for instead', async (t) => {
  const breaker = new Breaker('replica:test', { failures: 5, halfOpenAfterMs: 60_000, timeoutMs: 50 }, systemClock, logger);
  const started = Date.now();
  await t.rejects(breaker.execute(slow(500)), { message: 'no answer within 50 ms' }, 'the default deadline');
  t.ok(Date.now() - started < 400, 'abandoned at the deadline, not when the work ends');
  // A longer deadline for this call replaces the default rather than nesting inside it.
  t.equal(await breaker.execute(slow(150), 1000), 'done');
  await t.rejects(breaker.execute(slow(500), 100), { message: 'no answer within 100 ms' }, 'a shorter one, too');
});

t.test('missed deadlines count towards opening the breaker', async (t) => {
  const breaker = new Breaker('cache', { failures: 2, halfOpenAfterMs: 60_000, timeoutMs: 20 }, systemClock, logger);
  await t.rejects(breaker.execute(slow(200)));
  t.equal(breaker.state(), 'closed');
  await t.rejects(breaker.execute(slow(200), 30));
  t.equal(breaker.state(), 'open', 'two in a row, whichever deadline each had');
  await t.rejects(breaker.execute(slow(0)), { message: /circuit breaker is open/ }, 'then calls are refused at once');
  t.notOk(breaker.admits(), 'and reads skip it until the half-open delay has passed');
});
