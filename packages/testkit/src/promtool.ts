import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export const PROMTOOL = ['/usr/bin/promtool', '/usr/local/bin/promtool'].find((path) => existsSync(path));

/** Runs `promtool check metrics` on an exposition; returns its complaints (empty when clean). */
export function promtoolProblems(exposition: string): string {
  if (!PROMTOOL) throw new Error('promtool is not installed (apt-get install prometheus)');
  const result = spawnSync(PROMTOOL, ['check', 'metrics'], { input: exposition, encoding: 'utf8' });
  return result.status === 0 ? '' : `${result.stdout}${result.stderr}`.trim() || `exit ${result.status}`;
}
