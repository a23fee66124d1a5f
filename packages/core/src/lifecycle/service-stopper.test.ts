import t from 'tap';
import { ServiceStopper } from './service-stopper.ts';

t.test('stop runs the steps once, and isClosing is true from its first call', async (t) => {
  let runs = 0;
  let sawClosing: boolean | undefined;
  const stopper: ServiceStopper = new ServiceStopper(async () => {
    sawClosing = stopper.isClosing();
    runs++;
  });
  t.equal(stopper.isClosing(), false);
  await Promise.all([stopper.stop(), stopper.stop()]);
  await stopper.stop();
  t.equal(runs, 1, 'three calls, one run');
  t.equal(sawClosing, true, 'readiness already answered 503 while the steps ran');
});

t.test('a failed start stops what was started, then rethrows', async (t) => {
  const stopped: string[] = [];
  const stopper = new ServiceStopper(async () => {
    stopped.push('loops');
  });
  await t.rejects(
    stopper.guardStart(async () => {
      throw new Error('listen EADDRINUSE');
    }),
    { message: 'listen EADDRINUSE' },
  );
  t.same(stopped, ['loops']);
  t.equal(stopper.isClosing(), true);
  await stopper.guardStart(async () => {});
  t.same(stopped, ['loops'], 'a start that succeeds stops nothing');
});
