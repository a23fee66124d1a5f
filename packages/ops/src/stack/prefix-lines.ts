import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { Writer } from '../cli-io.ts';

/** Copies a child's output line by line, each line prefixed with the service name. */
export function prefixLines(input: Readable, prefix: string, output: Writer): void {
  const lines = createInterface({ input, crlfDelay: Infinity });
  lines.on('line', (line) => output.write(`${prefix} | ${line}\n`));
}
