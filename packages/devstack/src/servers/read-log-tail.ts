import { readFile } from 'node:fs/promises';

/** The last lines of a server's log file, for an error message that says why it did not start. */
export async function readLogTail(file: string, lines = 20): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return `(no log at ${file})`;
  }
}
