import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { runCheck } from './run-check.ts';

t.test('a check answers for itself; a throw or a hang becomes ok: false with the reason', async (t) => {
  t.same(await runCheck(async () => ({ ok: true, latencyMs: 1 }), 100), { ok: true, latencyMs: 1 });
  t.same(await runCheck(async () => ({ ok: false, error: 'policy' }), 100), { ok: false, error: 'policy' });
  t.same(
    await runCheck(async () => {
      throw new Error('connection refused');
    }, 100),
    { ok: false, error: 'connection refused' },
  );
  t.same(await runCheck(() => sleep(500).then(() => ({ ok: true })), 20), { ok: false, error: 'no answer within 20 ms' });
});
