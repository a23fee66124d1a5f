import t from 'tap';
import { loadConfig } from '../src/index.ts';

t.test('PROJECTOR_DRAIN_LINGER_MS defaults to 20, takes 0 to 1000 and refuses anything else', async (t) => {
  t.equal(loadConfig({}).projectorDrainLingerMs, 20);
  t.equal(loadConfig({ PROJECTOR_DRAIN_LINGER_MS: '0' }).projectorDrainLingerMs, 0, '0 turns the linger off');
  t.equal(loadConfig({ PROJECTOR_DRAIN_LINGER_MS: '1000' }).projectorDrainLingerMs, 1000);
  t.equal(loadConfig({ PROJECTOR_DRAIN_LINGER_MS: '' }).projectorDrainLingerMs, 20, 'empty is unset, as for every setting');
  // Above a second a drain's jobs would sit active for a large part of their lock (LOCK_MS 10 s).
  for (const bad of ['-1', '1001', '1e3', '2.5', 'soon', '0x10']) {
    t.throws(() => loadConfig({ PROJECTOR_DRAIN_LINGER_MS: bad }), /PROJECTOR_DRAIN_LINGER_MS/, `refuses ${JSON.stringify(bad)}`);
  }
});

t.test('PROJECTOR_DRAIN_MIN_EVENTS defaults to 500, takes 1 to 100000 and refuses anything else', async (t) => {
  t.equal(loadConfig({}).projectorDrainMinEvents, 500);
  t.equal(loadConfig({ PROJECTOR_DRAIN_MIN_EVENTS: '1' }).projectorDrainMinEvents, 1);
  t.equal(loadConfig({ PROJECTOR_DRAIN_MIN_EVENTS: '100000' }).projectorDrainMinEvents, 100_000);
  for (const bad of ['0', '-5', '100001', '9'.repeat(40), 'many']) {
    t.throws(() => loadConfig({ PROJECTOR_DRAIN_MIN_EVENTS: bad }), /PROJECTOR_DRAIN_MIN_EVENTS/, `refuses ${JSON.stringify(bad).slice(0, 20)}`);
  }
});
