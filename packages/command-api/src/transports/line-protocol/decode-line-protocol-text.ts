import { isUtf8 } from 'node:buffer';

/**
 * A body as text. Line protocol is UTF-8; a line holding other bytes is a bad line (named by its
 * number) rather than a bad request, so the answer can name every bad line like any other problem.
 * The common case costs one native validity scan; only an invalid body is split to find its lines.
 */
export function decodeLineProtocolText(bytes: Buffer): { text: string; invalidUtf8Lines?: Set<number> } {
  const text = bytes.toString('utf8');
  if (isUtf8(bytes)) return { text };
  const invalidUtf8Lines = new Set<number>();
  // No multi-byte UTF-8 sequence contains the byte 0x0A, and decoding turns each into one "\n" (bad
  // bytes become U+FFFD), so byte lines and the parser's text lines are numbered alike.
  let line = 1;
  for (let start = 0; start <= bytes.length; line++) {
    let end = bytes.indexOf(0x0a, start);
    if (end === -1) end = bytes.length;
    if (!isUtf8(bytes.subarray(start, end))) invalidUtf8Lines.add(line);
    start = end + 1;
  }
  return { text, invalidUtf8Lines };
}
