import { createServer } from 'node:net';

/*
 * Ports are picked below Linux's ephemeral range (32768–60999 by default), where the kernel never
 * hands a port to an outgoing connection. A port the OS picked with listen(0) comes from that range,
 * and any client socket of the suite (pg, Redis, HTTP) could take it between this check and the
 * service's own listen: a CI run lost a test to EADDRINUSE that way (2026-12-01).
 */
const LOW = 20_000;
const HIGH = 32_768;
const ATTEMPTS = 200;
/** Ports this process has handed out: a second test of the file never gets one of them. */
const handedOut = new Set<number>();

/** A TCP port on loopback that was free a moment ago, outside the ephemeral range. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const port = LOW + Math.floor(Math.random() * (HIGH - LOW));
    if (handedOut.has(port) || !(await isFree(port))) continue;
    handedOut.add(port);
    return port;
  }
  throw new Error(`no free port between ${LOW} and ${HIGH} in ${ATTEMPTS} attempts`);
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
