import t from 'tap';
import { AppError, encodeToken } from '@strata/core';
import { parseReadOptions } from './parse-read-options.ts';

const batch = '6f1c2a3e-1b2c-4d5e-8f90-123456789abc';

const fieldOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (error) {
    return error instanceof AppError && error.status === 400 ? error.details?.[0]?.field : 'not a 400';
  }
  return undefined;
};

t.test('defaults to eventual with the configured staleness bound', async (t) => {
  t.same(parseReadOptions({}, {}, 3000), { consistency: 'eventual', afterBatchId: undefined, maxStalenessMs: 3000 });
});

t.test('query parameters win over headers', async (t) => {
  const headers = { 'x-consistency': 'cache', 'x-consistency-token': 'junk' };
  t.same(parseReadOptions({ consistency: 'strong', after: encodeToken(batch) }, headers, 3000), {
    consistency: 'strong',
    afterBatchId: batch,
    maxStalenessMs: 3000,
  });
  t.equal(parseReadOptions({}, { 'x-consistency': 'cache' }, 3000).consistency, 'cache');
  t.equal(parseReadOptions({}, { 'x-consistency-token': encodeToken(batch) }, 3000).afterBatchId, batch);
});

t.test('bad input names the field it came from', async (t) => {
  t.equal(fieldOf(() => parseReadOptions({ consistency: 'fresh' }, {}, 1)), 'consistency');
  t.equal(fieldOf(() => parseReadOptions({}, { 'x-consistency': 'STRONG' }, 1)), 'X-Consistency');
  t.equal(fieldOf(() => parseReadOptions({ after: 'b1.nope' }, {}, 1)), 'after');
  t.equal(fieldOf(() => parseReadOptions({}, { 'x-consistency-token': 'x' }, 1)), 'X-Consistency-Token');
  t.equal(fieldOf(() => parseReadOptions({ maxStalenessMs: '-1' }, {}, 1)), 'maxStalenessMs');
  t.equal(fieldOf(() => parseReadOptions({ maxStalenessMs: '1.5' }, {}, 1)), 'maxStalenessMs');
  t.equal(parseReadOptions({ maxStalenessMs: '0' }, {}, 1).maxStalenessMs, 0);
});
