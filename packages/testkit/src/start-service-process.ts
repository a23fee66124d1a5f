import { ServiceProcess as StackProcess, type ServiceExit } from '@strata/ops/service-process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

export type ServiceName = 'command-api' | 'projector' | 'query-api' | 'ops';

export interface StartServiceOptions {
  /** After the entry point (ops: `serve` is its default). */
  args?: string[];
  /** Before the entry point, e.g. `--cpu-prof`. */
  nodeArgs?: string[];
  /** Also receives everything the process writes (the bench's `--logs`: a file per service). */
  log?: { write(chunk: string): void } | undefined;
}

/** How a test reads an exit: the code, or the signal's name when a signal ended it. */
const exitOf = (exit: ServiceExit): number | string => exit.code ?? exit.signal ?? 'unknown';

/**
 * One Strata service as its own OS process, launched by ops' stack launcher (the one launcher), with
 * its output kept for failure messages instead of printed (and copied to `log` where one is given).
 */
export class ServiceProcess {
  readonly name: ServiceName;
  /** Resolves with the exit code (or signal name) once the process has ended. */
  readonly exited: Promise<number | string>;
  readonly #process: StackProcess;
  #output = '';

  constructor(name: ServiceName, env: Record<string, string | undefined>, options: StartServiceOptions = {}) {
    this.name = name;
    const log = options.log;
    const keep = {
      write: (chunk: string) => {
        this.#output = (this.#output + chunk).slice(-20_000);
        log?.write(chunk);
      },
    };
    const spec = { name, script: `packages/${name}/src/main.ts`, args: options.args ?? [], cwd: ROOT, nodeArgs: options.nodeArgs ?? [] };
    this.#process = new StackProcess(spec, env, { stdout: keep, stderr: keep }, name.length);
    this.exited = this.#process.exited.then(exitOf);
  }

  get running(): boolean {
    return this.#process.running;
  }

  /** The last 20,000 characters the process wrote, for failure messages. */
  output(): string {
    return this.#output;
  }

  /** The OS process id, for the bench's CPU by component; undefined if it never started. */
  get pid(): number | undefined {
    return this.#process.pid;
  }

  /** Sends `signal` alone, if the process still runs: a bare SIGKILL, SIGSTOP, SIGCONT. */
  signal(signal: NodeJS.Signals): void {
    this.#process.signal(signal);
  }

  /** SIGTERM, then SIGKILL if it has not exited within `timeoutMs`. Resolves once it is gone. */
  async stop(timeoutMs = 10_000): Promise<number | string> {
    return exitOf(await this.#process.stop(timeoutMs));
  }
}

/** Starts one Strata service as `pnpm start` would (`packages/<name>/src/main.ts`), with `env` added to this process's. */
export function startServiceProcess(name: ServiceName, env: Record<string, string>, options: StartServiceOptions = {}): ServiceProcess {
  return new ServiceProcess(name, { ...process.env, ...env }, options);
}
