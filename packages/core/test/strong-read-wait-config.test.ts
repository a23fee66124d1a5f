import t from 'tap';
import { loadConfig } from '../src/index.ts';

t.test('STRONG_READ_WAIT_MS defaults to 5000, takes 0 to 600000 and refuses anything else', async (t) => {
  t.equal(loadConfig({}).strongReadWaitMs, 5000);
  t.equal(loadConfig({ STRONG_READ_WAIT_MS: '0' }).strongReadWaitMs, 0, '0: a read that would wait is refused at once');
  t.equal(loadConfig({ STRONG_READ_WAIT_MS: '600000' }).strongReadWaitMs, 600_000);
  for (const bad of ['-1', '600001', '5e3', '1.5', 'forever', '9'.repeat(40)]) {
    t.throws(() => loadConfig({ STRONG_READ_WAIT_MS: bad }), /STRONG_READ_WAIT_MS/, `refuses ${JSON.stringify(bad).slice(0, 20)}`);
  }
});
