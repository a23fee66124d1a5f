import type { Redis } from 'ioredis';

/**
 * Resolves once `redis` has finished its connection handshake (status `ready`). A subscriber must
 * not (p)subscribe before that: in ioredis 5 a SUBSCRIBE issued mid-handshake can land before the
 * handshake's INFO or CLIENT SETINFO, which the connection then refuses in subscriber mode, and the
 * subscription silently ends with no subscriber (redis/ioredis#2037, fixed only in ioredis 6). It
 * happened to query-api's key-revocation channel whenever building the app did file I/O.
 */
export function whenReady(redis: Pick<Redis, 'status' | 'once' | 'off'>): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onReady = (): void => {
      redis.off('end', onEnd);
      resolve();
    };
    const onEnd = (): void => {
      redis.off('ready', onReady);
      reject(new Error('redis connection ended before it was ready'));
    };
    redis.once('ready', onReady);
    redis.once('end', onEnd);
  });
}
