import { forbidden } from '../errors/app-error.ts';
import type { KeyIdentity, KeyScope } from './key-identity.ts';

/** Throws 403 `forbidden` unless the key's scope allows `need` (`all` needs a key that may do both). */
export function requireScope(identity: KeyIdentity, need: KeyScope): void {
  if (identity.scope === 'all' || identity.scope === need) return;
  throw forbidden(need === 'all' ? 'this request needs a key with scope all' : `this key may not ${need}`);
}

/**
 * Throws 403 `forbidden` when the key is bound to a device other than `device`. The bound device is
 * not named: a key's holder knows it, and a stolen request should not learn it.
 */
export function requireDevice(identity: KeyIdentity, device: string): void {
  if (identity.device !== null && identity.device !== device) throw forbidden('this key is bound to another device');
}

/** True for a key bound to one device: it may not make tenant-wide reads (decision 0043). */
export function isDeviceBound(identity: KeyIdentity): boolean {
  return identity.device !== null;
}
