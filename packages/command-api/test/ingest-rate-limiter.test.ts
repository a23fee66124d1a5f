import t from 'tap';
import { Redis, createLogger } from '@strata/core';
import { IngestRateLimiter } from '../src/ingest/ingest-rate-limiter.ts';

t.test('charges of refused bodies waiting for an unreachable Redis are bounded', async (t) => {
  // Nothing listens on port 1: ioredis keeps the commands in its offline queue, so no take is answered.
  const redis = new Redis('redis://127.0.0.1:1', { maxRetriesPerRequest: null, retryStrategy: () => 1000 });
  redis.on('error', () => undefined);
  const limiter = new IngestRateLimiter(redis, 'bound', { eventsPerSecond: 0, bytesPerSecond: 1000 }, createLogger('test', 'silent'));
  for (let i = 0; i < 10_050; i++) limiter.chargeRefused('tenant', 100);
  t.equal(limiter.pendingCharges, 10_000, 'past 10,000 waiting charges a refused body goes uncharged');
  redis.disconnect();
  const deadline = Date.now() + 5000;
  while (limiter.pendingCharges > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  t.equal(limiter.pendingCharges, 0, 'and every one is let go when the connection fails them');
});

t.test('nothing is charged when the byte limit is off, or for an empty body', async (t) => {
  const redis = new Redis('redis://127.0.0.1:1', { lazyConnect: true });
  const limiter = new IngestRateLimiter(redis, 'off', { eventsPerSecond: 10, bytesPerSecond: 0 }, createLogger('test', 'silent'));
  limiter.chargeRefused('tenant', 100);
  const on = new IngestRateLimiter(redis, 'on', { eventsPerSecond: 0, bytesPerSecond: 10 }, createLogger('test', 'silent'));
  on.chargeRefused('tenant', 0);
  t.same([limiter.pendingCharges, on.pendingCharges], [0, 0]);
  redis.disconnect();
});
