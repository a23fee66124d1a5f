import t from 'tap';
import { KnownDeviceKeys, LABEL_MARK } from './known-device-keys.ts';

const T1 = '00000000-0000-0000-0000-000000000001';
const T2 = '00000000-0000-0000-0000-000000000002';

t.test('known keys are per tenant and device, bounded by names; devices not used since the last turn go first', async (t) => {
  const known = new KnownDeviceKeys(8);
  known.add(T1, 'a', ['x', 'y']);
  known.add(T2, 'a', ['z']);
  t.same([...(known.get(T1, 'a') ?? [])], ['x', 'y']);
  t.same([...(known.get(T2, 'a') ?? [])], ['z'], 'another tenant has its own set');
  known.add(T1, 'a', ['y', 'w']);
  t.equal(known.names, 4, 'a known name is not counted twice');
  // The newer generation held half the bound (4 of 8): it turned, and both devices are still known.
  t.ok(known.get(T1, 'a'), 'a device used since the turn moves to the newer generation');
  known.add(T1, 'b', ['p', 'q']);
  // 5 names in the newer generation: it turned again, dropping the older one, which held only T2/a.
  t.equal(known.get(T2, 'a'), undefined, 'the device not used since the last turn went first');
  t.same([...(known.get(T1, 'a') ?? [])], ['x', 'y', 'w'], 'the one used stays, whole');
  t.ok(known.get(T1, 'b'));
  t.ok(known.names <= 8, `${known.names} names, within the bound`);
  known.add(T1, 'huge', ['1', '2', '3', '4', '5', '6', '7', '8', '9']);
  t.ok(known.get(T1, 'huge'), 'the device just added to is known, however many names it brought');
  for (let i = 0; i < 20; i++) known.add(T2, `d${i}`, [`k${i}`]);
  t.equal(known.get(T1, 'huge'), undefined, 'and goes once it is not used for two turns');
  t.ok(known.names <= 8, `${known.names} names, within the bound again`);
});

t.test('forget drops a device and its count; label names are marked apart from value keys', async (t) => {
  const known = new KnownDeviceKeys(10);
  known.add(T1, 'a', ['team', `${LABEL_MARK}team`]);
  t.equal(known.names, 2, 'the label team and the value key team are two entries');
  known.add(T1, 'b', ['x']);
  known.forget(T1, 'a');
  t.equal(known.get(T1, 'a'), undefined);
  t.equal(known.names, 1);
  known.forget(T1, 'nobody');
  t.equal(known.names, 1, 'forgetting an unknown device changes nothing');
});
