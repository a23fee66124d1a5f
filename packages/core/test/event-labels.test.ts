import { createHash } from 'node:crypto';
import fc from 'fast-check';
import t from 'tap';
import { batchEventColumns, checkLabels, eventKey, normalizeEvent, type EventValues, type NormalizedEvent } from '../src/index.ts';

const ts = '2026-11-30T06:00:00.000Z';

function ok(raw: unknown): NormalizedEvent {
  const result = normalizeEvent(raw);
  if (!('event' in result)) throw new Error(`refused: ${JSON.stringify(result.errors)}`);
  return result.event;
}

function fields(raw: unknown): string[] {
  const result = normalizeEvent(raw);
  return 'errors' in result ? result.errors.map((error) => error.field) : [];
}

/** The digest exactly as it was before labels existed (commit 50f400a), the reference for old keys. */
function keyBeforeLabels(type: string, values: EventValues): string {
  const canonical = JSON.stringify([type, Object.keys(values).sort().map((key) => [key, values[key]])]);
  return `h:${createHash('sha256').update(canonical).digest('base64url').slice(0, 32)}`;
}

t.test('events without labels keep their key byte for byte', async (t) => {
  const values: EventValues = { temp: 21.5, door: 'open', on: true, x: null };
  Object.defineProperty(values, '__proto__', { value: 1, enumerable: true });
  // Literals computed with the code of 50f400a: a change of the digest would double every re-send.
  t.equal(eventKey(undefined, 'reading', values), 'h:zzBJF5Qmm5R4Y3JrG6XIQMco7dgsk-vz');
  t.equal(eventKey(undefined, 'tap', {}), 'h:h06AbGTqGjqcK9hePmHsN3HpERqhINjI');
  t.equal(eventKey(undefined, 'reading', values, {}), 'h:zzBJF5Qmm5R4Y3JrG6XIQMco7dgsk-vz');
  t.equal(ok({ device: 'd', ts, values: { a: 1 }, labels: {} }).key, ok({ device: 'd', ts, values: { a: 1 } }).key);
  t.equal(ok({ device: 'd', ts, values: { a: 1 }, labels: null }).key, keyBeforeLabels('reading', { a: 1 }));
  const value = fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e300, max: 1e300 }), fc.string(), fc.boolean(), fc.constant(null));
  fc.assert(
    fc.property(fc.string({ minLength: 1 }), fc.dictionary(fc.string(), value), (type, values) => {
      return eventKey(undefined, type, values) === keyBeforeLabels(type, values) && eventKey(undefined, type, values, {}) === keyBeforeLabels(type, values);
    }),
  );
});

t.test('labels join the digest, in any order; an id still wins', async (t) => {
  const a = eventKey(undefined, 'reading', { v: 1 }, { space: 'lobby', floor: '1' });
  const b = eventKey(undefined, 'reading', { v: 1 }, { floor: '1', space: 'lobby' });
  t.equal(a, b, 'order of labels does not matter');
  t.not(a, eventKey(undefined, 'reading', { v: 1 }), 'labels make another event');
  t.not(a, eventKey(undefined, 'reading', { v: 1 }, { space: 'hall', floor: '1' }));
  // A label is not a value: the same pair as a value or a label gives different keys.
  t.not(eventKey(undefined, 'reading', { v: 1, space: 'lobby' }), eventKey(undefined, 'reading', { v: 1 }, { space: 'lobby' }));
  t.equal(eventKey('x', 'reading', { v: 1 }, { space: 'lobby' }), 'i:x');
  const flat = ok({ device: 'd', timestamp: ts, v: 1, labels: { space: 'lobby' } });
  t.same(flat.values, { v: 1 });
  t.same(flat.labels, { space: 'lobby' });
  t.equal(flat.key, eventKey(undefined, 'reading', { v: 1 }, { space: 'lobby' }));
});

t.test('labels are validated with the field named; nothing else changes', async (t) => {
  const many = Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, 'v']));
  t.same(fields({ device: 'd', ts, values: {}, labels: many }), ['labels']);
  const thirtyTwo = Object.fromEntries(Array.from({ length: 32 }, (_, i) => [`k${i}`, 'v']));
  t.equal(Object.keys(ok({ device: 'd', ts, values: {}, labels: thirtyTwo }).labels ?? {}).length, 32);
  t.same(fields({ device: 'd', ts, values: {}, labels: { ['x'.repeat(129)]: 'v' } }), [`labels.${'x'.repeat(129)}`]);
  t.same(fields({ device: 'd', ts, values: {}, labels: { k: 'x'.repeat(129) } }), ['labels.k']);
  t.ok(ok({ device: 'd', ts, values: {}, labels: { ['é'.repeat(128)]: '😀'.repeat(128) } }), '128 code points, not units');
  t.same(fields({ device: 'd', ts, values: {}, labels: { k: '' } }), ['labels.k']);
  t.same(fields({ device: 'd', ts, values: {}, labels: { '': 'v' } }), ['labels.']);
  t.same(fields({ device: 'd', ts, values: {}, labels: { k: 'a\uD800b' } }), ['labels.k'], 'lone surrogate');
  t.same(fields({ device: 'd', ts, values: {}, labels: { ['a\uDC00']: 'v' } }), ['labels.a\uDC00']);
  t.same(fields({ device: 'd', ts, values: {}, labels: { k: 'a\0' } }), ['labels.k'], 'U+0000');
  t.same(fields({ device: 'd', ts, values: {}, labels: { k: null } }), ['labels.k'], 'events carry strings');
  t.same(fields({ device: 'd', ts, values: {}, labels: { k: 1 } }), ['labels.k']);
  t.same(fields({ device: 'd', ts, values: {}, labels: { k: { x: 'y' } } }), ['labels.k']);
  t.same(fields({ device: 'd', ts, values: {}, labels: ['a'] }), ['labels']);
  t.same(fields({ device: 'd', ts, values: {}, labels: 'space=lobby' }), ['labels']);
  t.same(fields({ device: 'd', ts, v: 1, labels: 'lobby' }), ['labels'], 'flat form: labels is reserved, not a value');
  t.same(fields({ device: 'd', ts: 'nope', values: {}, labels: { k: '' } }).sort(), ['labels.k', 'ts'], 'every problem reported');
  const huge = 'x'.repeat(5 * 1024 * 1024);
  const reported = fields({ device: 'd', ts, values: {}, labels: { [huge]: 'v' } });
  t.equal(reported.length, 1);
  t.ok((reported[0] ?? '').length < 100, 'a huge name is not echoed whole');
});

t.test('__proto__ is a plain label that survives into the job and the digest', async (t) => {
  const event = ok(JSON.parse(`{"device":"d","ts":"${ts}","values":{},"labels":{"__proto__":"x","b":"y"}}`));
  t.equal(Object.getPrototypeOf(event.labels), Object.prototype, 'the prototype is untouched');
  t.same(Object.keys(event.labels ?? {}), ['__proto__', 'b']);
  const columns = batchEventColumns([{ ...event, tenantId: 't' }]);
  t.equal(columns.labels[0], '{"__proto__":"x","b":"y"}');
  t.not(event.key, ok({ device: 'd', ts, values: {}, labels: { b: 'y' } }).key);
  t.equal(batchEventColumns([{ ...ok({ device: 'd', ts, values: {} }), tenantId: 't' }]).labels[0], null);
});

t.test('checkLabels takes null only when asked (PATCH)', async (t) => {
  t.same(checkLabels({ a: null, b: 'x' }, { allowNull: true }), { labels: { a: null, b: 'x' } });
  t.same(checkLabels({ a: null }), { problems: [{ field: 'labels.a', reason: 'must be a string of 1-128 characters of well-formed Unicode without U+0000' }] });
  t.same(checkLabels({ a: 'x' }, { field: 'body.labels' }), { labels: { a: 'x' } });
  t.same(checkLabels(null, { allowNull: true }), { problems: [{ field: 'labels', reason: 'must be an object of string or null values' }] });
});
