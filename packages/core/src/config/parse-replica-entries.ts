import { redactUrl } from './redact-url.ts';

/** One read replica from DATABASE_REPLICA_URLS: the name reads report (`replica:<name>`) and its URL. */
export interface ReplicaTarget {
  name: string;
  url: string;
}

const NAMED_ENTRY = /^([A-Za-z0-9_.-]{1,64})=(.+)$/;

/**
 * Parses DATABASE_REPLICA_URLS: comma-separated entries, each `name=url` or a bare URL. A bare URL
 * is named `host:port`, which is stable across restarts and says where to look when it misbehaves.
 * Problems (bad URL, duplicate name) are pushed to `problems` so every one is reported at once.
 */
export function parseReplicaEntries(text: string, problems: string[]): ReplicaTarget[] {
  const targets: ReplicaTarget[] = [];
  const entries = text
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '');
  for (const entry of entries) {
    const named = NAMED_ENTRY.exec(entry);
    const url = named ? (named[2] as string) : entry;
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      problems.push(`DATABASE_REPLICA_URLS: not a valid URL: "${redactUrl(url)}"`);
      continue;
    }
    if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
      problems.push(`DATABASE_REPLICA_URLS: expected a postgres: or postgresql: URL, got "${redactUrl(url)}"`);
      continue;
    }
    const name = named ? (named[1] as string) : `${parsed.hostname}:${parsed.port || '5432'}`;
    if (targets.some((target) => target.name === name)) {
      problems.push(`DATABASE_REPLICA_URLS: replica name "${name}" appears twice`);
      continue;
    }
    targets.push({ name, url });
  }
  return targets;
}
