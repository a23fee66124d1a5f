import { unavailable } from '@strata/core';
import { TenantCounts } from './tenant-counts.ts';

/*
 * What a request holds, estimated from the text it arrived as: per character, the most memory a body
 * of that format was measured to hold while waiting to be stored (heap and buffers, staging locked,
 * hostile review of decision 0120): JSON and NDJSON of 200 numeric values an event 15.6 bytes, line
 * protocol (plain or gzip, charged its decompressed text) 31 bytes; long strings hold little more than
 * their text (1.3), so they are overcharged, which only lowers how many such requests wait at once.
 */
export const JSON_BYTES_PER_CHAR = 16;
export const LINE_PROTOCOL_BYTES_PER_CHAR = 32;
/**
 * What an HTTP write body holds while it is read, per byte of its Content-Length (MAX_BODY_BYTES when
 * it has none): its chunks and the string decoded from them. Charged from the first byte read until
 * the answer (app.ts, second hostile review of decision 0124), beside the parsed estimate above.
 */
export const READ_BYTES_PER_BYTE = 2;

export interface HeldBytesOptions {
  /** The estimated memory every write request in command-api's hands may hold at once. */
  maxBytes: number;
  /** What one tenant's requests may hold at once, a share of maxBytes. */
  maxBytesPerTenant: number;
}

/**
 * The memory of write requests between their body being read and their answer (decision 0120):
 * charged when acceptEvents takes a request, before the rate limiter, the key registry and the
 * group commit, any of which may wait on Redis or PostgreSQL, and given back when the request is
 * answered. Past the whole budget, or past the tenant's share, a request is refused with 503 at once,
 * having cost nothing: while the store stalls or lags, memory stays bounded, and one tenant sending
 * large bodies cannot take the whole budget from its neighbours. A tenant that holds nothing, and a
 * budget that holds nothing, take any request, so none is refused forever.
 */
export class HeldBytes {
  readonly #options: HeldBytesOptions;
  #total = 0;
  /** Per tenant; a tenant leaves the map when it holds nothing (bounded by the requests in hand). */
  readonly #byTenant = new TenantCounts();

  constructor(options: HeldBytesOptions) {
    this.#options = options;
  }

  /** Bytes held now (the strata_ingest_held_bytes gauge). */
  get total(): number {
    return this.#total;
  }

  /** Charges `bytes` to the tenant, or throws the refusal; the returned function gives them back (once). */
  take(tenantId: string, bytes: number): () => void {
    if (!Number.isSafeInteger(bytes) || bytes < 0) throw new TypeError(`HeldBytes: bytes must be a non-negative integer, got ${bytes}`);
    if (this.#total > 0 && this.#total + bytes > this.#options.maxBytes) {
      throw unavailable('too many bytes of requests are waiting to be stored; retry');
    }
    const mine = this.#byTenant.get(tenantId);
    if (mine > 0 && mine + bytes > this.#options.maxBytesPerTenant) {
      // 503, not 429: the store is behind this tenant's volume, which a retry later meets again as a
      // new request. MQTT answers 503s by disconnecting, so its client re-sends (a negative PUBACK
      // would be final).
      throw unavailable("this tenant's earlier requests are still waiting to be stored; retry");
    }
    this.#total += bytes;
    this.#byTenant.add(tenantId, bytes);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#total -= bytes;
      this.#byTenant.add(tenantId, -bytes);
    };
  }
}
