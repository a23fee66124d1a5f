import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The newest PostgreSQL server binaries installed the Debian/Ubuntu way
 * (`/usr/lib/postgresql/<major>/bin`), or undefined when there are none. Client-only installs put
 * psql on PATH but no initdb, so the check is for initdb itself.
 */
export function findPostgresBinDir(root = '/usr/lib/postgresql'): string | undefined {
  let versions: string[];
  try {
    versions = readdirSync(root);
  } catch {
    return undefined;
  }
  const candidates = versions
    .filter((version) => /^\d+(\.\d+)?$/.test(version))
    .sort((a, b) => Number(b) - Number(a))
    .map((version) => join(root, version, 'bin'));
  return candidates.find((dir) => existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl')));
}
