import t from 'tap';
import { readFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { whenReady } from '../src/redis/when-ready.ts';

const REDIS_URL = 'redis://127.0.0.1:6379';

/** Subscribes a fresh connection after a file read (as building an app does), and counts the subscribers Redis sees. */
async function subscribersAfterReady(): Promise<number> {
  const channel = `when-ready-test-${randomBytes(6).toString('hex')}`;
  const subscriber = new Redis(REDIS_URL);
  subscriber.on('error', () => undefined);
  const publisher = new Redis(REDIS_URL);
  try {
    await readFile(new URL(import.meta.url));
    // Without this wait, 24 of 30 such subscriptions were lost on ioredis 5.11.1.
    await whenReady(subscriber);
    await subscriber.subscribe(channel).catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 30));
    const [, count] = (await publisher.pubsub('NUMSUB', channel)) as [string, number];
    return Number(count);
  } finally {
    subscriber.disconnect();
    publisher.disconnect();
  }
}

t.test('a subscription made once the connection is ready is always held (redis/ioredis#2037)', async (t) => {
  let lost = 0;
  for (let n = 0; n < 20; n++) if ((await subscribersAfterReady()) !== 1) lost++;
  t.equal(lost, 0, 'every subscription made after whenReady is held');
});

t.test('whenReady resolves at once on a ready connection and rejects when the connection ends first', async (t) => {
  const ready = new Redis(REDIS_URL);
  t.teardown(() => ready.disconnect());
  await whenReady(ready);
  t.equal(ready.status, 'ready');
  await t.resolves(whenReady(ready), 'already ready');
  const never = new Redis('redis://127.0.0.1:1', { retryStrategy: () => null, lazyConnect: false });
  never.on('error', () => undefined);
  await t.rejects(whenReady(never), /ended before it was ready/);
});
