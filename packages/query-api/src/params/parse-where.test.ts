import t from 'tap';
import { AppError } from '@strata/core';
import { parseWhere } from './parse-where.ts';

const fieldOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (error) {
    return error instanceof AppError && error.status === 400 ? error.details?.[0]?.field : 'not a 400';
  }
  return 'no error';
};

t.test('parses conditions and spots numbers', async (t) => {
  t.same(parseWhere(undefined), []);
  t.same(parseWhere('temp>36.5,status=ok,n!=-2e3,x<=.5,y>=0,z<1'), [
    { key: 'temp', op: '>', text: '36.5', number: '36.5' },
    { key: 'status', op: '=', text: 'ok', number: undefined },
    { key: 'n', op: '!=', text: '-2e3', number: '-2000' },
    { key: 'x', op: '<=', text: '.5', number: '0.5' },
    { key: 'y', op: '>=', text: '0', number: '0' },
    { key: 'z', op: '<', text: '1', number: '1' },
  ]);
  t.same(parseWhere('a.b:c=x=y'), [{ key: 'a.b:c', op: '=', text: 'x=y', number: undefined }]);
  t.same(parseWhere('s='), [{ key: 's', op: '=', text: '', number: undefined }]);
});

t.test('numbers reach the database as JavaScript prints them', async (t) => {
  t.equal(parseWhere('x>1e-99999')[0]?.number, '0');
  t.equal(parseWhere(`x>1${'0'.repeat(300)}`)[0]?.number, '1e+300');
  t.equal(parseWhere('x=1e999')[0]?.number, undefined, 'past a double: compared as text, never cast');
  t.equal(fieldOf(() => parseWhere('x>1e999')), 'where');
});

t.test('refuses what it cannot express safely', async (t) => {
  for (const bad of ['temp', '>3', 'temp>ok', 'te mp=1', "x'=1", 'a=1,', 'k<Infinity', Array(21).fill('a=1').join(',')]) {
    t.equal(fieldOf(() => parseWhere(bad)), 'where', bad);
  }
});
