import { createHash } from 'node:crypto';
import type { Redis } from '@strata/core';

/**
 * A Lua script run by its digest (EVALSHA), so the hot path sends a 40-byte name rather than the
 * source; loaded with EVAL the first time a Redis has not seen it (fresh server, SCRIPT FLUSH).
 * One script is one atomic step, whatever the number of command-api instances.
 */
export class LuaScript {
  readonly #source: string;
  readonly #sha: string;

  constructor(source: string) {
    this.#source = source;
    this.#sha = createHash('sha1').update(source).digest('hex');
  }

  async run(redis: Redis, keys: string[], args: (string | number)[]): Promise<unknown> {
    // One array (ioredis flattens it), not spread into the call: a call of more than ~120,000
    // arguments overflows the stack.
    const argv = [...keys, ...args.map(String)];
    try {
      return await redis.evalsha(this.#sha, keys.length, argv);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return redis.eval(this.#source, keys.length, argv);
    }
  }
}
