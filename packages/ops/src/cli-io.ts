/** Where a CLI command writes; process.stdout/stderr in main.ts, string buffers in tests. */
export interface Writer {
  write(chunk: string): unknown;
}

export interface CliIo {
  stdout: Writer;
  stderr: Writer;
  /** The environment handed on to the processes `stack` starts. */
  env?: Record<string, string | undefined>;
  /** Aborted on SIGINT/SIGTERM: long-running commands (`stack`) shut down when it fires. */
  signal?: AbortSignal;
}
