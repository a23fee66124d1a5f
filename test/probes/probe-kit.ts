import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface Answer {
  status: number;
  text: string;
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- probes read arbitrary JSON answers
}

/** One HTTP exchange; a connection that ends without an answer is status 0, never an exception. */
export async function http(url: string, init: RequestInit & { key?: string } = {}): Promise<Answer> {
  const headers = new Headers(init.headers);
  if (init.key !== undefined) headers.set('authorization', `Bearer ${init.key}`);
  if (init.body !== undefined && !headers.has('content-type')) headers.set('content-type', 'application/json');
  try {
    const response = await fetch(url, { ...init, headers, signal: AbortSignal.timeout(20_000) });
    const text = await response.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: response.status, text, json };
  } catch (error) {
    return { status: 0, text: String((error as Error).cause ?? error), json: undefined };
  }
}

/** Raw bytes over a socket (absolute-form targets, partial bodies); resolves with the status line's code, 0 if none. */
export function rawRequest(base: string, bytes: string, waitMs = 10_000): Promise<{ status: number; closedAfterMs: number }> {
  const { hostname, port } = new URL(base);
  const started = Date.now();
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    let answer = '';
    const done = (status: number): void => {
      socket.destroy();
      resolve({ status, closedAfterMs: Date.now() - started });
    };
    const timer = setTimeout(() => done(-1), waitMs);
    socket.on('data', (chunk) => {
      answer += chunk.toString('latin1');
      const match = /^HTTP\/1\.1 (\d{3})/.exec(answer);
      if (match) {
        clearTimeout(timer);
        done(Number(match[1]));
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      done(0);
    });
    socket.write(bytes);
  });
}

/** Runs `pnpm ops …` against the probe stack; resolves with its exit code and output. */
export function runOps(args: string[], env: Record<string, string>): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['packages/ops/src/main.ts', ...args], { cwd: ROOT, env: { ...process.env, ...env } });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('exit', (code) => resolve({ code: code ?? 1, output }));
  });
}

/** Polls `check` until it returns true or `timeoutMs` passes; resolves with whether it did. */
export async function eventually(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await sleep(50);
  }
  return false;
}
