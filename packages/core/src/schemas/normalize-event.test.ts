import t from 'tap';
import { normalizeEvent } from './normalize-event.ts';

const ok = (raw: unknown) => {
  const result = normalizeEvent(raw);
  if ('errors' in result) throw new Error(JSON.stringify(result.errors));
  return result.event;
};
const fields = (raw: unknown) => {
  const result = normalizeEvent(raw, 4);
  return 'errors' in result ? result.errors.map((e) => `${e.index}:${e.field}`) : [];
};

t.test('the documented form', async (t) => {
  const event = ok({ device: 'fitband-alpha', id: 'a1b2', ts: '2026-11-20T12:00:00Z', type: 'reading', values: { heartRate: 88, temp: 36.6, status: 'ok', on: true, gone: null } });
  t.same(event, { device: 'fitband-alpha', key: 'i:a1b2', ts: Date.UTC(2026, 10, 20, 12), type: 'reading', values: { heartRate: 88, temp: 36.6, status: 'ok', on: true, gone: null } });
});

t.test('the flat form: timestamp, and every other top-level scalar is a value', async (t) => {
  const event = ok({ device: 'd', timestamp: 1750240800, heartRateValue: 88, status: 'ok' });
  t.equal(event.ts, 1750240800000);
  t.equal(event.type, 'reading');
  t.same(event.values, { heartRateValue: 88, status: 'ok' });
});

t.test('without an id, identical content gets the same key and different content another', async (t) => {
  const a = ok({ device: 'd', ts: 1, values: { x: 1, y: 2 } });
  const b = ok({ device: 'd', ts: 1, values: { y: 2, x: 1 } });
  const c = ok({ device: 'd', ts: 1, values: { x: 1, y: 3 } });
  t.equal(a.key, b.key, 'key order does not matter');
  t.not(a.key, c.key);
  t.match(a.key, /^h:/);
  t.equal(ok({ device: 'd', ts: 1, id: 42 }).key, 'i:42', 'numeric ids are accepted');
});

t.test('every problem is reported with its field and index', async (t) => {
  t.same(fields('nope'), ['4:event']);
  t.same(fields({}), ['4:device', '4:ts']);
  t.same(fields({ device: 'x'.repeat(129), ts: 1 }), ['4:device']);
  t.same(fields({ device: 'd', ts: 1, type: '' }), ['4:type']);
  t.same(fields({ device: 'd', ts: 1, values: [1] }), ['4:values']);
  t.same(fields({ device: 'd', ts: 1, values: { a: { b: 1 }, 'bad key': 1, s: 'x'.repeat(1025) } }), ['4:values.a', '4:values.bad key', '4:values.s']);
  t.same(fields({ device: 'd', timestamp: 'soon', nested: [1] }), ['4:timestamp', '4:nested']);
  t.same(fields({ device: 'd', ts: 1, id: '' }), ['4:id']);
  t.same(fields({ device: 'd', ts: 1, values: Object.fromEntries(Array.from({ length: 201 }, (_, i) => [`k${i}`, i])) }), ['4:values']);
});
