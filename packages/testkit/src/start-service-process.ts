import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

export type ServiceName = 'command-api' | 'projector' | 'query-api' | 'ops';

export interface StartServiceOptions {
  /** After the entry point (ops: `serve` is its default). */
  args?: string[];
  /** Before the entry point, e.g. `--cpu-prof`. */
  nodeArgs?: string[];
}

/**
 * One Strata service as its own OS process. Unlike ops' stack launcher (which only ever stops its
 * services, SIGTERM then SIGKILL) tests send any single signal: a bare SIGKILL, SIGSTOP, SIGCONT.
 */
export class ServiceProcess {
  readonly name: ServiceName;
  /** Resolves with the exit code (or signal name) once the process has ended. */
  readonly exited: Promise<number | string>;
  readonly #child: ChildProcess;
  #output = '';

  constructor(name: ServiceName, child: ChildProcess) {
    this.name = name;
    this.#child = child;
    const collect = (chunk: Buffer): void => {
      this.#output = (this.#output + chunk.toString()).slice(-20_000);
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'));
    });
  }

  get running(): boolean {
    return this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** The last 20,000 characters the process wrote, for failure messages. */
  output(): string {
    return this.#output;
  }

  /** Sends `signal` alone, if the process still runs. */
  signal(signal: NodeJS.Signals): void {
    if (this.running) this.#child.kill(signal);
  }

  /** SIGTERM, then SIGKILL if it has not exited within `timeoutMs`. Resolves once it is gone. */
  async stop(timeoutMs = 10_000): Promise<number | string> {
    if (!this.running) return this.exited;
    this.#child.kill('SIGTERM');
    const killed = sleep(timeoutMs, 'timeout' as const, { ref: false });
    if ((await Promise.race([this.exited, killed])) === 'timeout') this.#child.kill('SIGKILL');
    return this.exited;
  }
}

/** Starts one Strata service as `pnpm start` would (`packages/<name>/src/main.ts`), with `env` added to this process's. */
export function startServiceProcess(name: ServiceName, env: Record<string, string>, options: StartServiceOptions = {}): ServiceProcess {
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), `packages/${name}/src/main.ts`, ...(options.args ?? [])], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new ServiceProcess(name, child);
}
