import t from 'tap';
import { AnswerMemo } from './answer-memo.ts';

function memo(options: { maxBytes?: number; tenantMaxBytes?: number; maxAgeMs?: number } = {}) {
  let now = 1_000;
  const answers = new AnswerMemo(
    { maxBytes: options.maxBytes ?? 100_000, tenantMaxBytes: options.tenantMaxBytes ?? 100_000, maxAgeMs: options.maxAgeMs ?? 60_000 },
    () => now,
  );
  return { answers, advance: (ms: number) => (now += ms) };
}

/** What one entry of `chars` of JSON costs, with a key and tag of three characters together. */
const cost = (chars: number) => 2 * (chars + 3) + 256;

t.test('an entry is returned with its tag until it is older than the age bound', async (t) => {
  const { answers, advance } = memo({ maxAgeMs: 500 });
  answers.set('a', 'k', '[1]', 'v1');
  t.match(answers.get('k'), { json: '[1]', tag: 'v1', storedAtMs: 1_000 }, 'kept with its tag');
  advance(500);
  t.equal(answers.get('k')?.json, '[1]', 'at the bound: still used');
  advance(1);
  t.equal(answers.get('k'), undefined, 'past it: gone');
  t.equal(answers.bytes, 0, 'and its bytes freed');
  t.equal(answers.size, 0);
});

t.test('a new answer under a key replaces the old one and its bytes', async (t) => {
  const { answers } = memo();
  answers.set('a', 'k', 'x'.repeat(100), 'v1');
  answers.set('a', 'k', 'x'.repeat(10), 'v2');
  t.equal(answers.get('k')?.tag, 'v2');
  t.equal(answers.size, 1);
  t.equal(answers.bytes, 2 * (10 + 1 + 2) + 256, 'one entry of ten characters, its key and its tag');
});

t.test('the least recently used entry goes first when the bytes run out', async (t) => {
  const { answers } = memo({ maxBytes: 3 * cost(100) });
  for (const key of ['k1', 'k2', 'k3']) answers.set('a', key, 'x'.repeat(100), 'v');
  answers.use('k1'); // now k2 is the least recently used
  answers.set('b', 'k4', 'x'.repeat(100), 'v');
  t.equal(answers.get('k2'), undefined, 'the least recently used went');
  t.ok(answers.get('k1') && answers.get('k3') && answers.get('k4'), 'the others stayed');
  t.ok(answers.bytes <= 3 * cost(100), 'within the bound');
});

t.test('a tenant over its share evicts its own answers, never a neighbour\'s', async (t) => {
  // Two of the noisy tenant's entries (keys of three characters, a tag of one: 2 · 104 + 256 bytes each).
  const { answers } = memo({ maxBytes: 10 * cost(100), tenantMaxBytes: 2 * (2 * 104 + 256) });
  answers.set('quiet', 'qq', 'x'.repeat(100), 'v');
  for (let i = 10; i < 60; i++) answers.set('noisy', `n${i}`, 'x'.repeat(100), 'v');
  t.equal(answers.get('qq')?.json.length, 100, "the quiet tenant's answer survived 50 of the noisy tenant's");
  t.equal(answers.size, 3, 'the noisy tenant holds only its share (two answers)');
  t.ok(answers.get('n59') && answers.get('n58'), 'its newest ones');
});

t.test('an answer larger than a tenant\'s share is not kept', async (t) => {
  const { answers } = memo({ tenantMaxBytes: 1_000 });
  answers.set('a', 'k', 'x'.repeat(1_000), 'v');
  t.equal(answers.get('k'), undefined);
  t.equal(answers.bytes, 0);
});

t.test('over the whole bound, the tenant holding the most gives up its answers first', async (t) => {
  // Entries of keys of two characters and a tag of one: 2 · 103 + 256 bytes each. Room for eight; a
  // tenant may hold four.
  const entry = 2 * 103 + 256;
  const { answers } = memo({ maxBytes: 8 * entry, tenantMaxBytes: 4 * entry });
  for (const tenant of ['a', 'b', 'c']) for (const i of [1, 2]) answers.set(tenant, `${tenant}${i}`, 'x'.repeat(100), 'v');
  // A hostile tenant asks new questions, each kept at the others' expense were the oldest overall to go.
  for (let i = 10; i < 99; i++) answers.set('h', `${i}`, 'x'.repeat(100), 'v');
  for (const key of ['a1', 'a2', 'b1', 'b2', 'c1', 'c2']) t.ok(answers.get(key), `neighbour answer ${key} kept`);
  t.ok(answers.bytes <= 8 * entry, 'within the bound');
  t.ok(answers.get('98') && answers.get('97'), "the hostile tenant's newest kept, in what is left");
});
