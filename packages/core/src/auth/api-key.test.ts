import t from 'tap';
import { generateApiKey, isWellFormedApiKey } from './api-key.ts';

t.test('generated keys are well formed; anything else is not', async (t) => {
  for (let i = 0; i < 100; i++) t.equal(isWellFormedApiKey(generateApiKey()), true);
  const good = generateApiKey();
  for (const bad of ['', 'sk_', good.slice(0, -1), `${good}A`, `pk_${good.slice(3)}`, `${good.slice(0, -1)}=`, `${good.slice(0, -1)}+`, 'sk_' + 'A'.repeat(16 * 1024)]) {
    t.equal(isWellFormedApiKey(bad), false, JSON.stringify(bad.slice(0, 60)));
  }
});
