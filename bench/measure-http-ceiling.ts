import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { procTimes, TICKS_PER_SECOND } from './component-cpu.ts';
import { singleBody } from './event-bodies.ts';
import { runLoad } from './post-load.ts';

export interface HttpCeiling {
  requestsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  /** The server's CPU, % of a core, and per request, µs. */
  serverCpuPercent: number;
  serverMicrosPerRequest: number;
}

const SERVER = fileURLToPath(new URL('./http-ceiling-server.ts', import.meta.url));

/**
 * What a bare Node.js HTTP server answers on this machine, now, to the single-event phase's load: the
 * same generator, 64 connections and bodies, against a process that only parses each body and answers
 * 202 (http-ceiling-server.ts). The single-event target (12,000 req/s) is an absolute number, and the
 * machine's speed moved 2–3× between runs of the same commit on 2026-12-03 and 04; single events ÷ this
 * ceiling says how much of the gap is Strata, as batches ÷ the SQL ceiling does for batches.
 */
export async function measureHttpCeiling(durationS: number): Promise<HttpCeiling> {
  const server = spawn(process.execPath, [SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.once('exit', (code) => reject(new Error(`the HTTP ceiling's server exited (${code})`)));
      server.stdout.once('data', (data: Buffer) => resolve(Number(data.toString().trim())));
    });
    const ticks = async (): Promise<number> => (await procTimes(server.pid!))?.ticks ?? Number.NaN;
    const startTicks = await ticks();
    const startMs = Date.now();
    const options = { phase: 'http-ceiling', devices: 10_000, devicePrefix: 's-' };
    const load = await runLoad({
      url: `http://127.0.0.1:${port}/v1/events`,
      apiKey: 'none',
      connections: 64,
      duration: durationS,
      next: (n) => ({ body: singleBody(options, n) }),
    });
    const cores = ((await ticks()) - startTicks) / TICKS_PER_SECOND / ((Date.now() - startMs) / 1000);
    return {
      requestsPerSec: load.requestsPerSec,
      p50Ms: load.p50Ms,
      p99Ms: load.p99Ms,
      serverCpuPercent: cores * 100,
      serverMicrosPerRequest: load.requestsPerSec > 0 ? (cores / load.requestsPerSec) * 1e6 : 0,
    };
  } finally {
    server.kill('SIGKILL');
  }
}
