/** Bodies at most this long are parsed without a scan: their nesting cannot cost enough to matter. */
export const NESTING_SCAN_MIN_BYTES = 64 * 1024;

/**
 * Events nest three or four levels (`{"events":[{"values":{…}}]}`); anything deeper is refused before
 * JSON.parse, which spends seconds of blocked event loop on 5 MB of `[[[[…` (issue 9, review).
 */
export const MAX_BODY_NESTING = 16;

/**
 * Whether JSON text opens more than `maxDepth` arrays/objects inside each other, brackets in strings
 * not counted. One pass over the characters, no allocation. With `perLine` (NDJSON) every line is a
 * document of its own: a raw newline cannot occur inside a JSON string, so depth restarts at each.
 */
export function exceedsNesting(text: string, maxDepth: number, perLine = false): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: the next character is escaped
      else if (c === 0x22) inString = false;
      else if (c === 0x0a && perLine) inString = false;
      if (c === 0x0a && perLine) depth = 0;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > maxDepth) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
    else if (c === 0x0a && perLine) depth = 0;
  }
  return false;
}
