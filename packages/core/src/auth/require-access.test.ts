import t from 'tap';
import { AppError } from '../errors/app-error.ts';
import type { KeyIdentity, KeyScope } from './key-identity.ts';
import { isDeviceBound, requireDevice, requireScope } from './require-access.ts';

const key = (scope: KeyScope, device: string | null = null): KeyIdentity => ({ keyId: 'k', tenantId: 't', scope, device });

function status(fn: () => void): number {
  try {
    fn();
    return 200;
  } catch (error) {
    return error instanceof AppError ? error.status : 500;
  }
}

t.test('scopes: all does both, read and write only their own, a route needing all refuses either', async (t) => {
  const table: Array<[KeyScope, KeyScope, number]> = [
    ['all', 'read', 200],
    ['all', 'write', 200],
    ['all', 'all', 200],
    ['read', 'read', 200],
    ['read', 'write', 403],
    ['read', 'all', 403],
    ['write', 'write', 200],
    ['write', 'read', 403],
    ['write', 'all', 403],
  ];
  for (const [scope, need, expected] of table) t.equal(status(() => requireScope(key(scope), need)), expected, `${scope} key, ${need} route`);
  try {
    requireScope(key('write'), 'read');
  } catch (error) {
    t.equal((error as AppError).code, 'forbidden');
  }
});

t.test('a device-bound key may act only as its device, and the message does not name it', async (t) => {
  t.equal(status(() => requireDevice(key('write', 'pump-1'), 'pump-1')), 200);
  t.equal(status(() => requireDevice(key('write'), 'anything')), 200, 'an unbound key may act as any device');
  try {
    requireDevice(key('write', 'pump-1'), 'pump-2');
    t.fail('should refuse');
  } catch (error) {
    t.equal((error as AppError).status, 403);
    t.equal((error as AppError).code, 'forbidden');
    t.notMatch((error as AppError).message, /pump-1/);
  }
  t.equal(isDeviceBound(key('read', 'pump-1')), true);
  t.equal(isDeviceBound(key('all')), false);
});
