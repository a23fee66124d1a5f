import t from 'tap';
import { KnownDeviceKeys, LABEL_MARK } from './known-device-keys.ts';

const T1 = '00000000-0000-0000-0000-000000000001';
const T2 = '00000000-0000-0000-0000-000000000002';

t.test('known keys are per tenant and device, bounded by names, least recently used first', async (t) => {
  const known = new KnownDeviceKeys(5);
  known.add(T1, 'a', ['x', 'y']);
  known.add(T2, 'a', ['z']);
  t.same([...(known.get(T1, 'a') ?? [])], ['x', 'y']);
  t.same([...(known.get(T2, 'a') ?? [])], ['z'], 'another tenant has its own set');
  known.add(T1, 'a', ['y', 'w']);
  t.equal(known.names, 4, 'a known name is not counted twice');
  known.get(T1, 'a'); // now T2/a is the least recently used
  known.add(T1, 'b', ['p', 'q']);
  t.equal(known.get(T2, 'a'), undefined, 'the least recently used device went first');
  t.ok(known.get(T1, 'a'), 'the recently used one stays');
  t.ok(known.names <= 5);
  known.add(T1, 'huge', ['1', '2', '3', '4', '5', '6', '7']);
  t.ok(known.get(T1, 'huge'), 'the device just added to is never the one evicted');
  t.equal(known.get(T1, 'a'), undefined);
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
