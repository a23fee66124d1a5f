// PostgreSQL's epoch (2000-01-01) in Unix seconds, and 2^53: below it a double holds every integer.
const POSTGRES_EPOCH_SECONDS = 946_684_800;
const EXACT_BELOW = 2 ** 53;
const POSTGRES_EPOCH_MICROS = 946_684_800_000_000n;

/**
 * The timestamptz that `to_timestamp(ms / 1000.0)` makes of `ms`, as input text for COPY. The insert
 * and the drain's job form store event times with that expression, and history's key holds the time,
 * so a COPY must stage the very same microsecond: this repeats the server's float arithmetic
 * (float8_timestamptz: seconds since 2000, times 10^6, rounded half to even), which doubles do alike in
 * C and JavaScript. Up to the 23rd century that is the millisecond itself; later, past 2^53
 * microseconds, the double no longer holds every microsecond and the server stores the nearest one
 * it holds (9999-12-31T23:59:59.999 becomes .999008), and so must COPY.
 */
export function toTimestampText(ms: number): string {
  const micros = roundHalfEven((ms / 1000 - POSTGRES_EPOCH_SECONDS) * 1e6);
  const exact = (ms - POSTGRES_EPOCH_SECONDS * 1000) * 1000;
  if (Number.isInteger(ms) && Math.abs(exact) < EXACT_BELOW && micros === exact) return new Date(ms).toISOString();
  // Microseconds beyond the millisecond: the double's exact integer, split with BigInt.
  const unixMicros = BigInt(micros) + POSTGRES_EPOCH_MICROS;
  const whole = unixMicros / 1000n;
  const rest = Number(unixMicros - whole * 1000n);
  const iso = new Date(Number(whole)).toISOString();
  return `${iso.slice(0, -1)}${String(rest).padStart(3, '0')}Z`;
}

/** C's rint under the default rounding mode: to the nearest integer, ties to even. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}
