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
  t.same(fields({ device: 'd', ts: 1, values: { a: { b: 1 }, '': 1, s: 'x'.repeat(64 * 1024 + 1) } }), ['4:values.a', '4:values.', '4:values.s']);
  t.same(fields({ device: 'd', timestamp: 'soon', nested: [1] }), ['4:timestamp', '4:nested']);
  t.same(fields({ device: 'd', ts: 1, id: '' }), ['4:id']);
  t.same(fields({ device: 'd', ts: 1, values: Object.fromEntries(Array.from({ length: 201 }, (_, i) => [`k${i}`, i])) }), ['4:values']);
});

const reasons = (raw: unknown) => {
  const result = normalizeEvent(raw, 0);
  return 'errors' in result ? result.errors.map((e) => `${e.field}: ${e.reason}`) : [];
};

t.test('everything PostgreSQL would refuse is refused at the door, naming the field', async (t) => {
  const base = { device: 'd', ts: '2026-11-20T12:00:00Z' };
  t.same(fields({ ...base, values: { s: 'a\u0000b' } }), ['4:values.s'], 'U+0000 in a string value');
  t.same(fields({ ...base, id: 'x\u0000' }), ['4:id'], 'U+0000 in an id');
  t.same(fields({ ...base, values: { s: 'a\ud800' } }), ['4:values.s'], 'a lone high surrogate in a value');
  t.same(fields({ ...base, values: { s: '\udc00z' } }), ['4:values.s'], 'a lone low surrogate in a value');
  t.same(fields({ ...base, id: 'a\ud800' }), ['4:id'], 'a lone surrogate in an id (never turned into U+FFFD)');
  t.same(fields({ ...base, values: { 'k\ud800': 1 } }), ['4:values.k\ud800'], 'a lone surrogate in a value key');
  t.same(fields({ ...base, values: { 'k\u0000': 1 } }), ['4:values.k\u0000'], 'U+0000 in a value key');
  t.same(fields({ ...base, type: 'r\ud800' }), ['4:type'], 'a lone surrogate in the type');
  t.same(fields({ ...base, values: { big: 1.7e308 } }), ['4:values.big']);
  t.same(fields({ ...base, values: { small: -1.7e308 } }), ['4:values.small']);
  t.same(fields({ ...base, values: { edge: 1e300, negEdge: -1e300, tiny: 1e-300 } }), [], '|v| <= 1e300 is fine');
  t.match(reasons({ ...base, values: { big: 1.7e308 } }), ['values.big: must be a finite number of magnitude at most 1e+300']);
  t.same(fields({ ...base, ts: '2026-11-31T12:00:00Z' }), ['4:ts'], 'November 31st');
  t.same(fields({ ...base, values: { s: 'x'.repeat(64 * 1024) } }), [], 'a string of exactly 64 KiB is fine');
  t.same(fields({ ...base, values: { s: '\u00e9'.repeat(32 * 1024 + 1) } }), ['4:values.s'], 'the limit is in UTF-8 bytes');
  t.same(fields({ ...base, values: { s: '\u{1F600}'.repeat(16 * 1024) } }), [], 'well-formed pairs are fine');
});

t.test('names are 1-128 characters of any storable Unicode, stored exactly', async (t) => {
  const names = ['heart rate', 'a,b', 'x=1', 'say "hi"', "it's", 'temp.°C', 'Temperatur', '温度', '\u{1F321}\u{FE0F} outside', 'n'.repeat(128), '\u{1F600}'.repeat(128)];
  const event = ok({ device: 'd', ts: 1, type: 'door opened, "front"', values: Object.fromEntries(names.map((n, i) => [n, i])) });
  t.same(Object.keys(event.values), names);
  t.equal(event.type, 'door opened, "front"');
  t.same(fields({ device: 'd', ts: 1, values: { ['n'.repeat(129)]: 1 } }), [`4:values.${'n'.repeat(129)}`], '129 characters are refused');
  t.same(fields({ device: 'd', ts: 1, values: { ['\u{1F600}'.repeat(129)]: 1 } }), [`4:values.${'\u{1F600}'.repeat(129)}`], '129 characters beyond the BMP are refused');
  t.same(fields({ device: 'd', ts: 1, type: 't'.repeat(129) }), ['4:type']);
  const huge = fields({ device: 'd', ts: 1, values: { ['k'.repeat(100_000)]: 1 } });
  t.ok(huge[0] && huge[0].length < 100, 'a huge refused name is not echoed whole');
});

t.test('__proto__, constructor and toString are plain value keys, in both forms', async (t) => {
  const fromJson = (text: string) => ok(JSON.parse(text));
  const documented = fromJson('{"device":"d","ts":1,"values":{"__proto__":1,"constructor":"c","toString":true,"hasOwnProperty":null}}');
  t.same(Object.keys(documented.values), ['__proto__', 'constructor', 'toString', 'hasOwnProperty']);
  t.equal(JSON.stringify(documented.values), '{"__proto__":1,"constructor":"c","toString":true,"hasOwnProperty":null}', 'they survive serialisation into staging and the job');
  t.ok(Object.hasOwn(documented.values, '__proto__'), '__proto__ is an own key');
  t.equal(Object.getPrototypeOf(documented.values), Object.prototype, 'and the prototype was not replaced');
  const flat = fromJson('{"device":"d","ts":1,"__proto__":5,"constructor":6}');
  t.equal(JSON.stringify(flat.values), '{"__proto__":5,"constructor":6}');
  t.same(fields(JSON.parse('{"device":"d","ts":1,"values":{"__proto__":{"polluted":1}}}')), ['4:values.__proto__'], 'an object under __proto__ is a nested value, refused');
  t.same(fields(JSON.parse('{"device":"d","ts":1,"__proto__":{"polluted":1}}')), ['4:__proto__'], 'also in the flat form');
  t.equal(({} as Record<string, unknown>).polluted, undefined, 'and nothing was polluted');
  const a = fromJson('{"device":"d","ts":1,"values":{"__proto__":1}}');
  const b = fromJson('{"device":"d","ts":1,"values":{"__proto__":2}}');
  t.not(a.key, b.key, 'the content digest sees the key');
});
