import { execFileSync } from 'node:child_process';

/**
 * The kernel's timer on this machine's TCP socket whose local port is `clientPort` (a database
 * connection's client_port, as pg_stat_activity or inet_client_port() give it), read with `ss`:
 * `keepalive,9.956ms,0` when keepalive is on and idle (9 s 956 ms to the next probe), `none` when the
 * socket has no timer running. Throws when no such socket is established.
 */
export function tcpTimerOf(clientPort: number): string {
  const line = execFileSync('ss', ['-tnoH', 'state', 'established', `( sport = :${clientPort} )`], { encoding: 'utf8' }).trim();
  if (line === '') throw new Error(`no established socket on local port ${clientPort}`);
  return /timer:\(([^)]*)\)/.exec(line)?.[1] ?? 'none';
}

/** Milliseconds to the next keepalive probe in such a timer (ss prints [Nmin][S(sec|.)][MMMms]), or NaN. */
export function keepaliveMsLeft(timer: string): number {
  const left = /^keepalive,(?:(\d+)min)?(?:(\d+)(?:sec|\.))?(?:(\d+)ms)?,/.exec(timer);
  return left ? Number(left[1] ?? 0) * 60_000 + Number(left[2] ?? 0) * 1000 + Number(left[3] ?? 0) : Number.NaN;
}
