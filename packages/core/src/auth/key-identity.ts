/** What a key may do: only read, only write, or both. */
export type KeyScope = 'read' | 'write' | 'all';

export const KEY_SCOPES: readonly KeyScope[] = ['read', 'write', 'all'];

/** Who a request is, once its key is verified: every authorization decision is taken from this. */
export interface KeyIdentity {
  /** The key's id (not its secret): what `ops key list` shows and `ops key revoke` takes. */
  keyId: string;
  tenantId: string;
  scope: KeyScope;
  /** The one device the key is bound to, else null (the key may act for the whole tenant). */
  device: string | null;
}
