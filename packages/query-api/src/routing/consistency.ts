/** How fresh a read must be; chosen per request by the client. */
export const CONSISTENCY_LEVELS = ['strong', 'eventual', 'cache'] as const;
export type Consistency = (typeof CONSISTENCY_LEVELS)[number];

/** Where a read was answered from; its text form is the `X-Read-Source` header. */
export type ReadSource = { kind: 'primary' } | { kind: 'replica'; name: string } | { kind: 'cache' };

export function sourceLabel(source: ReadSource): string {
  return source.kind === 'replica' ? `replica:${source.name}` : source.kind;
}

/** What the client asked for, after validation. */
export interface ReadOptions {
  consistency: Consistency;
  /** Batch id from the `after` token: the read must reflect that batch. */
  afterBatchId: string | undefined;
  maxStalenessMs: number;
}

/** What every response carries in `meta` and in the `X-Read-*` headers. */
export interface ReadMeta {
  source: string;
  consistency: Consistency;
  lagMs: number;
}
