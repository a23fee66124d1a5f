import t from 'tap';
import type { LabelSample, StateWithStaged } from '../queries/select-state-with-staged.ts';
import { mergeStagedLabels } from './merge-staged-labels.ts';

const T0 = Date.UTC(2026, 10, 20, 12);
const staged = (ms: number, labels?: Record<string, string>): StateWithStaged['staged'][number] => ({
  ts: new Date(ms).toISOString(),
  values: {},
  labels,
  receivedAt: new Date(ms).toISOString(),
});

t.test('staged labels lay over the labels in force by sample time, ties to the larger text', async (t) => {
  const labels = new Map<string, LabelSample>([
    ['space', { value: 'lobby', ms: T0 }],
    ['floor', { value: null, ms: T0 }],
    ['team', { value: 'red', ms: T0 }],
    ['zone', { value: 'b', ms: T0 }],
  ]);
  const merged = mergeStagedLabels({
    labels,
    staged: [
      staged(T0 - 1, { space: 'garage' }), // older than the sample in force: loses
      staged(T0, { team: 'blue', zone: 'c' }), // equal time: blue < red loses, c > b wins
      staged(T0, { floor: '2' }), // equal time against a removal: any value wins
      staged(T0 + 1, JSON.parse('{"__proto__": "p", "é": "ü"}') as Record<string, string>),
      staged(T0 + 2),
    ],
  });
  t.same(Object.entries(merged), [
    ['__proto__', 'p'],
    ['floor', '2'],
    ['space', 'lobby'],
    ['team', 'red'],
    ['zone', 'c'],
    ['é', 'ü'],
  ], 'own keys in byte order, __proto__ included');
  t.equal(Object.getPrototypeOf(merged), Object.prototype, 'the prototype is untouched');
  t.same(labels.get('zone'), { value: 'b', ms: T0 }, 'the input map is not changed');
});

t.test('newest staged sample of a label wins whatever order staged rows come in', async (t) => {
  const rows = [staged(T0 + 5, { s: 'x' }), staged(T0 + 9, { s: 'y' }), staged(T0 + 9, { s: 'w' }), staged(T0 + 1, { s: 'z' })];
  for (let i = 0; i < 8; i++) {
    const rotated = [...rows.slice(i % 4), ...rows.slice(0, i % 4)];
    const shuffled = i < 4 ? rotated : rotated.reverse();
    t.same(mergeStagedLabels({ labels: new Map(), staged: shuffled }), { s: 'y' });
  }
  t.same(mergeStagedLabels({ labels: new Map([['s', { value: 'a', ms: T0 + 20 }]]), staged: rows }), { s: 'a' });
});
