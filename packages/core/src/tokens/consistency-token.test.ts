import t from 'tap';
import { decodeToken, encodeToken } from './consistency-token.ts';

t.test('a token names the batch it was issued for, and nothing else decodes', async (t) => {
  const batch = '0b6f7c1e-3a52-4c7d-9e0f-1a2b3c4d5e6f';
  t.equal(decodeToken(encodeToken(batch)), batch);
  t.equal(decodeToken(batch), undefined, 'no version prefix');
  t.equal(decodeToken('b1.not-a-uuid'), undefined);
  t.equal(decodeToken(`b1.${batch.toUpperCase()}`), undefined, 'issued ids are lower case; another spelling was not issued here');
});
