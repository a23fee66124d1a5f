import t from 'tap';
import type { Logger } from './create-logger.ts';
import { ThrottledLogger } from './throttled-logger.ts';

function recorder(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const logger = { warn: (_fields: object, message: string) => lines.push(message) } as unknown as Logger;
  return { logger, lines };
}

t.test('one line per key per interval, the first at once', async (t) => {
  const { logger, lines } = recorder();
  let now = 0;
  const log = new ThrottledLogger(logger, 5000, () => now);
  t.equal(log.warn('a', {}, 'a1'), true, 'the first is written even at time 0');
  now = 4999;
  t.equal(log.warn('a', {}, 'a2'), false, 'within the interval: dropped');
  t.equal(log.warn('b', {}, 'b1'), true, 'another key has its own interval');
  now = 5000;
  t.equal(log.warn('a', {}, 'a3'), true, 'a whole interval later: written');
  t.same(lines, ['a1', 'b1', 'a3']);
});
