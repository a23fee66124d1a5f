/** Where a CLI command writes (ops' CliIo shape), as strings the test can read. */
export function captureIo(): { stdout: { write: (chunk: string) => unknown }; stderr: { write: (chunk: string) => unknown }; out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    stdout: { write: (chunk: string) => (out += chunk) },
    stderr: { write: (chunk: string) => (err += chunk) },
    out: () => out,
    err: () => err,
  };
}
