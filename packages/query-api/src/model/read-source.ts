/** Where a read was answered from; its text form is the `X-Read-Source` header. */
export type ReadSource = { kind: 'primary' } | { kind: 'replica'; name: string } | { kind: 'cache' };

export function sourceLabel(source: ReadSource): string {
  return source.kind === 'replica' ? `replica:${source.name}` : source.kind;
}
