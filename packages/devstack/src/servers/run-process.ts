import { spawn } from 'node:child_process';

export interface RunProcessOptions {
  /** Run as this OS user (via `runuser`) when we are root: PostgreSQL refuses to run as root. */
  asUser?: string;
  cwd?: string;
  /**
   * Start in a process group of its own, so a Ctrl-C in the terminal (sent to the whole foreground
   * group) does not reach a server it daemonizes; the caller stops that server explicitly.
   */
  detached?: boolean;
  /** Variables added to this process's environment for the command (and what it starts). */
  env?: Record<string, string>;
}

export interface ProcessResult {
  code: number;
  output: string;
}

/** Whether this process runs as root (and must drop privileges for PostgreSQL). */
export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/** Runs a command to completion and returns its exit code and combined output; rejects only when it cannot start. */
export function runProcess(command: string, args: string[], options: RunProcessOptions = {}): Promise<ProcessResult> {
  const [file, argv] =
    options.asUser && isRoot() ? ['runuser', ['-u', options.asUser, '--', command, ...args]] : [command, args];
  return new Promise((resolve, reject) => {
    const child = spawn(file, argv, {
      cwd: options.cwd ?? '/',
      detached: options.detached ?? false,
      env: options.env ? { ...process.env, ...options.env } : process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const collect = (chunk: Buffer): void => {
      // Keep the tail only: error messages are at the end, and a chatty tool must not grow memory.
      output = (output + chunk.toString('utf8')).slice(-16_384);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), output }));
  });
}

/** Like runProcess, but a non-zero exit is an error carrying the command's output. */
export async function runProcessOrThrow(command: string, args: string[], options: RunProcessOptions = {}): Promise<string> {
  const result = await runProcess(command, args, options);
  if (result.code !== 0) {
    throw new Error(`${command} ${args.join(' ')} exited with ${result.code}:\n${result.output.trim()}`);
  }
  return result.output;
}
