import t from 'tap';
import { ClaimSizes } from './claim-sizes.ts';

t.test('a backlog of cheap minutes grows the claim toward the target time, at most fourfold a step', async (t) => {
  const sizes = new ClaimSizes({ targetMs: 200, initial: 240, max: 10_000 });
  t.equal(sizes.minutesFor('a'), 240);
  sizes.record('a', { claimed: 240, size: 240, elapsedMs: 10 });
  t.equal(sizes.minutesFor('a'), 960, 'fourfold, not the twentyfold the time suggests');
  sizes.record('a', { claimed: 960, size: 960, elapsedMs: 100 });
  t.equal(sizes.minutesFor('a'), 1920, 'what the target suggests');
  sizes.record('a', { claimed: 1920, size: 1920, elapsedMs: 20 });
  t.equal(sizes.minutesFor('a'), 7680);
  sizes.record('a', { claimed: 7680, size: 7680, elapsedMs: 10 });
  t.equal(sizes.minutesFor('a'), 10_000, 'never past max');
  t.equal(sizes.minutesFor('b'), 240, 'tenants are sized apart');
});

t.test('a slow claim shrinks, down to one minute; a caught-up tenant is forgotten', async (t) => {
  const sizes = new ClaimSizes({ targetMs: 200, initial: 240 });
  sizes.record('busy', { claimed: 240, size: 240, elapsedMs: 2400 });
  t.equal(sizes.minutesFor('busy'), 20);
  sizes.record('busy', { claimed: 5, size: 20, elapsedMs: 4000 });
  t.equal(sizes.minutesFor('busy'), 1, 'a minute that alone takes longer than the target is claimed alone');
  sizes.record('busy', { claimed: 1, size: 1, elapsedMs: 300 });
  t.equal(sizes.minutesFor('busy'), 1);
  sizes.record('busy', { claimed: 2, size: 30, elapsedMs: 50 });
  t.equal(sizes.minutesFor('busy'), 240, 'its notes emptied: back to the initial size');
  sizes.record('late', { claimed: 3, size: 240, elapsedMs: 300 });
  t.equal(sizes.minutesFor('late'), 2, 'a slow claim shrinks the next even when it emptied the notes');
});
