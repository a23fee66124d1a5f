import t from 'tap';
import { exceedsNesting } from './exceeds-nesting.ts';

t.test('counts brackets, not those inside strings', async (t) => {
  t.equal(exceedsNesting('{"events":[{"values":{"a":1}}]}', 4), false);
  t.equal(exceedsNesting('{"events":[{"values":{"a":[1]}}]}', 5), false);
  t.equal(exceedsNesting('{"events":[{"values":{"a":[1]}}]}', 4), true);
  t.equal(exceedsNesting('{"a":"[[[[[[\\"[[[[["}', 1), false, 'brackets and escaped quotes in strings');
  t.equal(exceedsNesting('['.repeat(17) + ']'.repeat(17), 16), true);
  t.equal(exceedsNesting('['.repeat(16) + ']'.repeat(16), 16), false);
});

t.test('NDJSON: each line is its own document', async (t) => {
  const line = '{"a":{"b":{"c":1}}}';
  t.equal(exceedsNesting(Array(100).fill(line).join('\n'), 3, true), false);
  t.equal(exceedsNesting(Array(20).fill('[').join('\n'), 3, true), false, 'unclosed lines do not add up');
  t.equal(exceedsNesting(Array(20).fill('[').join('\n'), 3), true, 'but do in one JSON document');
  t.equal(exceedsNesting('{"a":"unterminated\n{"b":[[1]]}', 2, true), true);
});
