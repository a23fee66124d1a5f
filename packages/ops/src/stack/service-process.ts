import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Writer } from '../cli-io.ts';
import { prefixLines } from './prefix-lines.ts';

export interface ServiceSpec {
  name: string;
  script: string;
  args: string[];
  cwd: string;
  /** Node's own flags, before the script (the bench's `--cpu-prof`). */
  nodeArgs?: string[];
}

export interface ServiceExit {
  name: string;
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * One Strata process run by the stack, its output prefixed and merged into the stack's. The one
 * launcher: the testkit's ServiceProcess (tests, the fault suite, the bench) wraps it.
 */
export class ServiceProcess {
  readonly name: string;
  readonly exited: Promise<ServiceExit>;
  readonly #child: ChildProcess;
  #running = true;

  constructor(spec: ServiceSpec, env: Record<string, string | undefined>, out: { stdout: Writer; stderr: Writer }, width: number) {
    this.name = spec.name;
    // Own process group: a terminal Ctrl-C reaches only the stack, which then stops each service
    // with one SIGTERM (a second signal makes close-with-grace exit at once, skipping the drain).
    this.#child = spawn(process.execPath, [...(spec.nodeArgs ?? []), spec.script, ...spec.args], {
      cwd: spec.cwd,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const prefix = spec.name.padEnd(width);
    prefixLines(this.#child.stdout!, prefix, out.stdout);
    prefixLines(this.#child.stderr!, prefix, out.stderr);
    // Detached children outlive a stack that dies abruptly; kill them when this process exits.
    const killOnExit = (): void => void this.#child.kill('SIGKILL');
    process.once('exit', killOnExit);
    this.exited = new Promise((resolve) => {
      this.#child.once('exit', (code, signal) => {
        this.#running = false;
        process.removeListener('exit', killOnExit);
        resolve({ name: spec.name, code, signal });
      });
      this.#child.once('error', () => {
        this.#running = false;
        process.removeListener('exit', killOnExit);
        resolve({ name: spec.name, code: null, signal: null });
      });
    });
  }

  get running(): boolean {
    return this.#running;
  }

  /** The OS process id (the node process itself: spawned without a shell), undefined if it never started. */
  get pid(): number | undefined {
    return this.#child.pid;
  }

  /** Sends `signal` alone, if the process still runs (the fault suite's SIGKILL, SIGSTOP, SIGCONT). */
  signal(signal: NodeJS.Signals): void {
    if (this.#running) this.#child.kill(signal);
  }

  /** SIGTERM, then SIGKILL if it has not exited within `timeoutMs`. Resolves once it is gone. */
  async stop(timeoutMs: number): Promise<ServiceExit> {
    if (this.#running) this.#child.kill('SIGTERM');
    const killed = sleep(timeoutMs, 'timeout' as const, { ref: false });
    if ((await Promise.race([this.exited, killed])) === 'timeout') this.#child.kill('SIGKILL');
    return this.exited;
  }
}
